import { MARK, TTL } from '../../state/keys.js'
import type { State } from '../../state/index.js'
import { isLogin, type Layer } from '../chain.js'

// The credential's cap on calls in flight, across replicas: the lowest of QUALYS_CONCURRENCY and
// what Qualys announced (X-Concurrency-Limit-Limit, learnt here on the way back up and shared).
// Waiting for a slot counts against the request's deadline; tiles and health wait behind
// investigations.
export function slots ({ state, concurrency }: { state: State, concurrency: number }): Layer {
  return async (call, next) => {
    if (isLogin(call)) return next(call)
    const { account, deadline: { signal } } = call
    const learnt = await state.marks.get(account.key, MARK.concurrency, signal)
    const cap = learnt !== undefined && learnt >= 1 ? Math.min(concurrency, learnt) : concurrency
    const release = await state.slot(account.key, cap, signal, call.purpose !== 'investigation')
    try {
      const answer = await next(call)
      const announced = answer.seen?.concurrency
      if (announced !== undefined && announced < cap) {
        state.marks.set(account.key, MARK.concurrency, announced, TTL.learntMs).catch(() => {})
      }
      return answer
    } finally {
      release()
    }
  }
}
