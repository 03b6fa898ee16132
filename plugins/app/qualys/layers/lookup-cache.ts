import { abortable } from '../../../../lib/abortable.js'
import { isTimeout } from '../../../../lib/errors.js'
import type { State } from '../../state/index.js'
import type { Call, Layer, Next, OnCall } from '../chain.js'
import type { Answer } from '../../../../lib/qualys/protocol.js'

export interface LookupCacheOptions { state: State, ttlMs: number, onCall: OnCall }

// One fetch per (credential, query) for lookups: Qualys' final answers kept LOOKUP_CACHE_TTL_S,
// identical lookups under way in the process joined, and across the replicas a lock per query,
// under which the cache is read again before Qualys is asked (SPEC §10). Above the slots: a hit,
// or a joined fetch, never takes a slot.
export function lookupCache ({ state, ttlMs, onCall }: LookupCacheOptions): Layer {
  const underWay = new Map<string, Promise<Answer>>()
  const replay = (kept: { status: number, text: string }): Answer => ({ status: kept.status, text: kept.text, headers: {}, replayed: true })

  async function fetchOnce (call: Call, next: Next, query: string): Promise<Answer> {
    const { account, deadline: { signal } } = call
    const release = await state.lock(account.key, `lookup\u0000${query}`, signal)
    try {
      const fetched = await state.answers.get(account.key, query, signal)
      if (fetched !== undefined) {
        onCall('coalesced')
        return replay(fetched)
      }
      const answer = await next(call)
      if (answer.final === true) await state.answers.set(account.key, query, { status: answer.status, text: answer.text }, ttlMs, signal)
      return answer
    } finally {
      release()
    }
  }

  return async (call, next) => {
    if (call.cached !== true || ttlMs === 0) return next(call)
    const { account, deadline } = call
    const query = `${call.path}?${call.query}`
    const hit = await state.answers.get(account.key, query, deadline.signal)
    if (hit !== undefined) {
      onCall('cache_hit')
      return replay(hit)
    }
    onCall('cache_miss')
    const key = `${account.key}\u0000${query}`
    const joined = underWay.get(key)
    if (joined !== undefined) {
      onCall('coalesced')
      try {
        return await abortable(joined, deadline.signal) // another request's fetch: waited for within our time
      } catch (err) {
        // The request that made the call ran out of time (or stopped): ask again on our own.
        if (!(isTimeout(err) && !deadline.passed)) throw err
      }
    }
    const fetching = fetchOnce(call, next, query)
    underWay.set(key, fetching)
    fetching.catch(() => {}).finally(() => { if (underWay.get(key) === fetching) underWay.delete(key) })
    return await fetching
  }
}
