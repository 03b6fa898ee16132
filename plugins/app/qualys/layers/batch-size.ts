import { REFUSALS } from '../../../../lib/qualys/protocol.js'
import type { State } from '../../state/index.js'
import { MARK, TTL } from '../../state/keys.js'
import type { Layer, OnCall } from '../chain.js'

export interface BatchSizeOptions {
  state: State
  onCall: OnCall
  onBatchBytes: (credential: string, bytes: number) => void
}

// What a refused batch teaches, recorded on the way up like every other lesson: Qualys refused a
// batched events call for its size or syntax (400, 413, 414, 431), so later batches of this
// credential start at half its filter, in every replica, for an hour, until a refusal teaches less.
// Below the lookup cache: a replayed or joined answer teaches nothing twice.
export function batchSize ({ state, onCall, onBatchBytes }: BatchSizeOptions): Layer {
  return async (call, next) => {
    const answer = await next(call)
    if (call.batchBytes === undefined || !REFUSALS.has(answer.status)) return answer
    onCall('batch_refused')
    const { account, deadline } = call
    const learnt = Math.floor(call.batchBytes / 2)
    const known = await state.marks.get(account.key, MARK.batchBytes, deadline.signal)
    if (known === undefined || known > learnt) {
      await state.marks.set(account.key, MARK.batchBytes, learnt, TTL.learntMs, deadline.signal)
      onBatchBytes(account.label, learnt)
    }
    return answer
  }
}
