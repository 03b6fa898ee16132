import type { Caller } from './retry.js'
import { MARK } from '../state/keys.js'

// A call within the account's cap on calls in flight (the lowest of QUALYS_CONCURRENCY and what
// any replica learnt from Qualys); waiting for a slot counts against the request's deadline.
export async function limited<T> ({ account, deadline }: Caller, fn: () => Promise<T>): Promise<T> {
  const { state, key, concurrency } = account
  const learnt = await deadline.race(state.marks.get(key, MARK.concurrency))
  const cap = learnt !== undefined && learnt >= 1 ? Math.min(concurrency, learnt) : concurrency
  return deadline.race(state.slot(key, cap, deadline.signal, fn))
}
