import { QUERIES, TOKEN_PATHS, type Token } from '../../../lib/qql.js'
import type { Lookup, Observation, QualysEvent } from '../../../schemas/qualys.js'
import { lookupOne, safely, type Events } from './single.js'
import { BatchRejected } from './http.js'
import type { Session } from './session.js'

const MAX_PAGE = 1000 // the largest page size the reference relay was run with

// What one batched answer says: each observable's events, and which observables it cannot
// speak for (an event that equality cannot assign contains their value: Qualys' quoted values
// are phrase/prefix matches, so their own query would have returned it).
interface Assigned { events: Events[], doubtful: boolean[], full: boolean }

// The lower-cased values of an event's fields for a token (read once per event and token).
function reader (event: QualysEvent) {
  const seen = new Map<Token, string[]>()
  return (token: Token): string[] => {
    let values = seen.get(token)
    if (values === undefined) {
      values = []
      for (const [a, b, c] of TOKEN_PATHS[token] as Array<[string, string, string | undefined]>) {
        const inner = (event[a] as Record<string, unknown> | undefined)?.[b]
        const v = c === undefined ? inner : (inner as Record<string, unknown> | undefined)?.[c]
        if (typeof v === 'string' && v !== '') values.push(v.toLowerCase())
      }
      seen.set(token, values)
    }
    return values
  }
}

// Assigns each event to every observable one of whose fields equals its value (an event may
// belong to several). undefined: an event neither belongs to nor contains any observable's
// value, so the answer is not what the queries explain, and the whole group goes one by one.
export function assign (events: Events, group: Lookup[], pageSize: number): Assigned | undefined {
  const wanted = group.map((item) => ({ value: item.value.toLowerCase(), tokens: QUERIES[item.type].tokens }))
  const out: Events[] = group.map(() => [])
  const doubtful = group.map(() => false)
  for (const event of events) {
    const values = reader(event)
    let explained = false
    wanted.forEach(({ value, tokens }, i) => {
      let contains = false
      for (const token of tokens) {
        for (const v of values(token)) {
          if (v === value) {
            out[i]?.push(event)
            explained = true
            return
          }
          if (v.includes(value)) contains = true
        }
      }
      if (contains) {
        doubtful[i] = true
        explained = true
      }
    })
    if (!explained) return undefined
  }
  return { events: out, doubtful, full: events.length >= pageSize }
}

type Outcome = Assigned | { fallback: true } | { error: unknown }

async function batchCall (session: Session, filter: string, pageSize: number, active: boolean, group: Lookup[]): Promise<Outcome> {
  try {
    return assign(await session.events(filter, pageSize, active, true), group, pageSize) ?? { fallback: true }
  } catch (err) {
    return err instanceof BatchRejected ? { fallback: true } : { error: err }
  }
}

// What the batch says about observable i when it needs `needed` events; undefined: ask alone.
// A full page only vouches for an observable that already has all it needs (newest first).
function take (outcome: Outcome, i: number, needed: number): Events | undefined {
  if ('fallback' in outcome) return undefined
  if ('error' in outcome) return []
  if (outcome.doubtful[i] === true) return undefined
  const found = outcome.events[i] ?? []
  return found.length >= needed || !outcome.full ? found.slice(0, needed) : undefined
}

// Active and Historical batches are asked at once (Historical with the full page), then cut to
// exactly what the one-by-one rule gives; what a batch cannot vouch for falls back to it.
export async function lookupBatch (session: Session, group: Lookup[], limit: number): Promise<Observation[]> {
  const filter = group.map((item) => QUERIES[item.type].filter(item.value)).join(' or ')
  const pageSize = Math.min(MAX_PAGE, limit * group.length)
  const [active, historical] = await Promise.all([
    batchCall(session, filter, pageSize, true, group),
    batchCall(session, filter, pageSize, false, group)
  ])
  if ('error' in active) session.record(active.error)
  const actives = await Promise.all(group.map((item, i) =>
    take(active, i, limit) ?? safely(session, QUERIES[item.type].filter(item.value), limit, true)))
  const needsHistorical = actives.some((events) => events.length < limit)
  if ('error' in historical && needsHistorical) session.record(historical.error)
  return Promise.all(group.map(async (item, i) => {
    const known = actives[i] as Events
    const room = limit - known.length
    if (room <= 0) return { ...item, active: known, historical: [] }
    const found = take(historical, i, room)
    return found === undefined ? lookupOne(session, item, limit, known) : { ...item, active: known, historical: found }
  }))
}
