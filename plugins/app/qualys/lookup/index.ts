import { RelayError, unexpectedError } from '../../../../lib/errors.js'
import { QUERIES } from '../../../../lib/qualys/qql.js'
import { scrub } from '../../../../lib/secrets.js'
import type { Lookup, Observation } from '../../../../schemas/qualys.js'
import { MARK } from '../../state/keys.js'
import type { State } from '../../state/index.js'
import type { Conversation, OnCall } from '../chain.js'
import { encodedLength, eventsQuery, PATH } from '../../../../lib/qualys/protocol.js'
import { lookupBatch } from './batch.js'
import { lookupOne, type Found, type Looked } from './single.js'

export const BATCH_MAX = 50 // observables per batched query

export type Batching = 'mixed' | 'per-type' | 'off'

export interface LookupOptions {
  state: State
  batching: Batching
  maxUrlBytes: number // QUALYS_MAX_URL_BYTES
  onCall: OnCall
}

// Splits lookups into batches of at most BATCH_MAX observables and `maxBytes` of encoded filter
// (the request target stays under QUALYS_MAX_URL_BYTES, and under what the credential's Qualys
// accepted after refusing more), in request order. `mixed` puts every type in one query; `per-type` one query per type.
// Measured (npm run bench, 49 observables of 7 types): mixed costs 2 calls per request, per-type
// 14, so mixed is the default; an event that equality cannot assign only sends back the
// observables whose values it contains, never the whole mixed group (batch.ts).
export function groups (items: Lookup[], batching: Batching, maxBytes: number): Lookup[][] {
  if (batching === 'off') return items.map((item) => [item])
  const out: Lookup[][] = []
  const open = new Map<string, { items: Lookup[], bytes: number }>()
  for (const item of items) {
    const key = batching === 'mixed' ? '' : item.type
    const bytes = encodedLength(QUERIES[item.type].filter(item.value))
    let group = open.get(key)
    const joined = group === undefined ? bytes : group.bytes + encodedLength(' or ') + bytes
    if (group === undefined || group.items.length >= BATCH_MAX || joined > maxBytes) {
      group = { items: [], bytes: 0 }
      open.set(key, group)
      out.push(group.items)
    }
    group.bytes = group.items.length === 0 ? bytes : joined
    group.items.push(item)
  }
  return out
}

// The longest filter (encoded) a batched events call may carry: the request target stays under
// QUALYS_MAX_URL_BYTES, and under what this credential's Qualys accepted after refusing more.
const FIXED = (PATH.events + '?' + eventsQuery({ filter: '', pageSize: 1000, pageNumber: 99, state: 'true' })).length

export function createLookups (o: LookupOptions) {
  // The size a refused batch taught (the batch-size layer records it) bounds every batch.
  const maxFilterBytes = async (c: Conversation) => {
    const learnt = await o.state.marks.get(c.account.key, MARK.batchBytes, c.deadline.signal)
    return Math.min(o.maxUrlBytes - new URL(c.account.apiUrl).pathname.replace(/\/+$/, '').length - FIXED, learnt ?? Infinity)
  }
  // A failure reads as what was found, so the rest goes on; a bug is logged (scrubbed) and
  // answered generically.
  const errorOf = (c: Conversation, err: unknown): RelayError => {
    if (err instanceof RelayError) return err
    const e = err instanceof Error ? err : new Error(String(err))
    const secrets = c.account.secrets
    c.log?.error({ error: { type: e.name, message: scrub(e.message, secrets), stack: scrub(e.stack ?? '', secrets) } },
      'unexpected error during a Qualys lookup')
    return unexpectedError()
  }

  // Every observable's events (batched within the per-credential cap on calls in flight), in
  // request order, and the errors met on the way. Batches are an optimisation only: the answer
  // is the same as one by one (test/plugins/batch*).
  return async function lookupAll (c: Conversation, items: Lookup[], limit: number): Promise<{ observations: Observation[], errors: RelayError[] }> {
    const { events } = c
    const looked = new Map<Lookup, Looked>()
    const maxBytes = o.batching === 'off' ? Infinity : await maxFilterBytes(c)
    await Promise.all(groups(items, o.batching, maxBytes).map(async (group) => {
      let found: Looked[]
      if (group.length === 1) found = [await lookupOne(events, group[0] as Lookup, limit)]
      else {
        const batched = await lookupBatch(events, group, limit)
        for (let i = 0; i < batched.splits; i++) o.onCall('batch_split')
        found = batched.looked
      }
      group.forEach((item, i) => looked.set(item, found[i] as Looked))
    }))
    const errors: RelayError[] = []
    const kept = (f: Found) => {
      if (f.error !== undefined) errors.push(errorOf(c, f.error))
      return f.events
    }
    const observations = items.map((item) => {
      const { active, historical } = looked.get(item) as Looked
      return { ...item, active: kept(active), historical: kept(historical) }
    })
    return { observations, errors }
  }
}

export type LookupAll = ReturnType<typeof createLookups>
