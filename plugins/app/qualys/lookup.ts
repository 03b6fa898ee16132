import { QUERIES } from '../../../lib/qql.js'
import type { Lookup, Observation } from '../../../schemas/qualys.js'
import { encodedLength, lookupBatch } from './batch.js'
import { lookupOne } from './single.js'
import type { Session } from './session.js'

export const BATCH_MAX = 50 // observables per batched query

export type Batching = 'mixed' | 'per-type' | 'off'

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

// Observables run concurrently; the per-credential limiter inside the session caps the calls.
// Batches are an optimisation only: the answer is the same as one by one (test/plugins/batch*).
export async function lookupAll (session: Session, items: Lookup[], limit: number, batching: Batching = 'mixed'): Promise<Observation[]> {
  const done = new Map<Lookup, Observation>()
  const maxBytes = batching === 'off' ? Infinity : await session.maxFilterBytes()
  await Promise.all(groups(items, batching, maxBytes).map(async (group) => {
    const observations = group.length === 1
      ? [await lookupOne(session, group[0] as Lookup, limit)]
      : await lookupBatch(session, group, limit)
    group.forEach((item, i) => done.set(item, observations[i] as Observation))
  }))
  return items.map((item) => done.get(item) as Observation)
}
