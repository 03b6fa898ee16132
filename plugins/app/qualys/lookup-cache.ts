import { RelayError } from '../../../lib/errors.js'
import type { QualysEvent } from '../../../schemas/qualys.js'
import { limited } from './limits.js'
import { call, type Caller } from './retry.js'
import { parseEvents } from './transport.js'

// One fetch per (credential, query): the lookup cache (LOOKUP_CACHE_TTL_S), identical lookups
// under way in the process joined, and across the replicas a lock per query, under which the
// cache is read again before Qualys is asked (SPEC §10).
export async function cachedEvents (caller: Caller, query: string, opts: { batch: boolean }): Promise<QualysEvent[]> {
  const { account, deadline } = caller
  const fetch = (): Promise<QualysEvent[]> => limited(caller, () => call(caller, '/ioc/events', query, parseEvents, opts))
  const { lookups } = account.state
  const inflight = account.inflight // exists exactly when the cache does
  if (inflight === undefined) return await fetch()
  const hit = await lookups.get(account.key, query)
  if (hit !== undefined) {
    account.onCall?.('cache_hit')
    return hit
  }
  account.onCall?.('cache_miss')
  const joined = inflight.get(query)
  if (joined !== undefined) {
    account.onCall?.('coalesced')
    try {
      return await deadline.race(joined)
    } catch (err) {
      // The request that made the call ran out of time (or stopped): ask again on our own.
      if (!(err instanceof RelayError && err.code === 'timeout' && !deadline.passed)) throw err
    }
  }
  const underWay = account.state.exclusive(account.key, `lookup\u0000${query}`, deadline.signal, async () => {
    const fetched = await lookups.get(account.key, query)
    if (fetched !== undefined) {
      account.onCall?.('coalesced')
      return fetched
    }
    const events = await fetch()
    await lookups.set(account.key, query, events, account.lookupTtlMs)
    return events
  }).catch((err: unknown) => {
    // Sessions waiting on this call (coalesced) read a deadline as the relay's timeout error.
    throw deadline.passed && !(err instanceof RelayError) ? deadline.timeout() : err
  })
  inflight.set(query, underWay)
  underWay.catch(() => {}).finally(() => inflight.delete(query))
  return await deadline.race(underWay)
}
