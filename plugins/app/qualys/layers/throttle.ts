import { qualysError } from '../../../../lib/errors.js'
import { MARK } from '../../state/keys.js'
import type { State } from '../../state/index.js'
import { isLogin, type Layer, type OnCall } from '../chain.js'
import { THROTTLED } from '../../../../lib/qualys/protocol.js'

// After Qualys asked to wait (429/409 with a wait, recorded here on the way back up, with the
// status that asked), no call of that credential, in any replica, goes out before the wait is
// over. A wait that ends after the request's deadline — met here on the way down, or just named
// by the answer on its way up — fails the call at once, saying until when the budget is spent
// (SPEC §12), never after waiting out the deadline.
export function throttle ({ state, onCall }: { state: State, onCall: OnCall }): Layer {
  return async (call, next) => {
    if (isLogin(call)) return next(call)
    const { account, deadline } = call
    const { signal } = deadline
    const until = await state.marks.get(account.key, MARK.throttled, signal)
    const wait = until !== undefined ? until - Date.now() : 0
    if (wait > 0) {
      if (!deadline.leaves(wait)) throw qualysError.budgetSpent(until as number, await state.marks.get(account.key, MARK.throttledBy, signal))
      onCall('throttled')
      await deadline.wait(wait)
    }
    const answer = await next(call)
    const told = THROTTLED.has(answer.status) ? answer.seen?.wait : undefined
    if (told === undefined) return answer
    const end = Date.now() + told
    await state.marks.set(account.key, MARK.throttled, end, told, signal)
    await state.marks.set(account.key, MARK.throttledBy, answer.status, told, signal)
    if (!deadline.leaves(told)) throw qualysError.budgetSpent(end, answer.status)
    return answer
  }
}
