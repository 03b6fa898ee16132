import { qualysError } from '../../../../lib/errors.js'
import { MARK } from '../../state/keys.js'
import type { State } from '../../state/index.js'
import type { Layer, OnCall } from '../chain.js'
import { THROTTLED } from '../protocol.js'

// After Qualys asked to wait (429/409 with a wait, recorded here on the way back up), no call of
// that credential, in any replica, goes out before the wait is over; a wait beyond the request's
// deadline fails the call at once.
export function throttle ({ state, onCall }: { state: State, onCall: OnCall }): Layer {
  return async (call, next) => {
    const { account, deadline } = call
    const until = await deadline.race(state.marks.get(account.key, MARK.throttled))
    const wait = until !== undefined ? until - Date.now() : 0
    if (wait > 0) {
      if (!deadline.leaves(wait)) throw qualysError.tooManyRequests()
      onCall('throttled')
      await deadline.wait(wait)
    }
    const answer = await next(call)
    const told = THROTTLED.has(answer.status) ? answer.seen?.wait : undefined
    if (told !== undefined) await state.marks.set(account.key, MARK.throttled, Date.now() + told, told)
    return answer
  }
}
