import { isIsolable, RelayError } from '../../../../lib/errors.js'
import { QUERIES, TOKEN_PATHS, type Token } from '../../../../lib/qualys/qql.js'
import type { Lookup, QualysEvent } from '../../../../schemas/qualys.js'
import { encodedLength, MAX_PAGE } from '../../../../lib/qualys/protocol.js'
import type { Events, EventState, Refused } from './events.js'
import { newest, type Found, type Looked } from './single.js'

// Batches are an optimisation, never a change of answer (SPEC §4): what one-by-one lookups give.
// A batch shrinks rather than falls back: refused for its size → halves (and the size that passed
// is remembered); a failure that may be one observable's → halves until it is alone (both halves
// failing alike is Qualys' failure: splitting stops); a full page → only the observables that do
// not yet hold their newest events are asked again, together.

export const joined = (group: Lookup[]) => group.map((item) => QUERIES[item.type].filter(item.value)).join(' or ')
export { encodedLength }

// What one batched answer says: each observable's events (equality on the fields its token
// searches), which observables it cannot speak for (an event contains their value without
// equalling it: Qualys' quoted values are phrase/prefix matches), and whether an event is
// explained by no observable at all.
interface Assigned { events: QualysEvent[][], doubtful: boolean[], unexplained: boolean }

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

export function assign (events: QualysEvent[], group: Lookup[]): Assigned {
  const wanted = group.map((item) => ({ value: item.value.toLowerCase(), tokens: QUERIES[item.type].tokens }))
  const out: QualysEvent[][] = group.map(() => [])
  const doubtful = group.map(() => false)
  let unexplained = false
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
    if (!explained) unexplained = true
  }
  return { events: out, doubtful, unexplained }
}

type Outcome = { events: QualysEvent[], pageSize: number } | Refused | { failed: unknown }

const halves = <T>(list: T[]): [T[], T[]] => [list.slice(0, Math.ceil(list.length / 2)), list.slice(Math.ceil(list.length / 2))]
const alike = (a: unknown, b: unknown) => a instanceof RelayError && b instanceof RelayError && a.code === b.code && a.message === b.message
const failureOf = (t: Outcome | Found[]) => Array.isArray(t) ? t[0]?.error : 'failed' in t ? t.failed : undefined

// One batched query: the events, its refusal, or its failure.
async function ask (events: Events, group: Lookup[], need: number, state: EventState): Promise<Outcome> {
  const filter = joined(group)
  const pageSize = Math.min(MAX_PAGE, need * group.length)
  try {
    const answer = await events({ filter, pageSize, state, batch: true })
    return Array.isArray(answer) ? { events: answer, pageSize } : answer
  } catch (failed) {
    return { failed }
  }
}

// Up to `need` newest events per observable of the group, for one state; `splits` counts the
// batches cut in halves (for metrics).
export function gatherer (events: Events, need: number, state: EventState, splits: { count: number }) {
  const attempt = (group: Lookup[]) => ask(events, group, need, state)

  const gather = async (group: Lookup[]): Promise<Found[]> => group.length === 1
    ? [await newest(events, QUERIES[(group[0] as Lookup).type].filter((group[0] as Lookup).value), need, state)]
    : settle(group, await attempt(group))

  const split = async (group: Lookup[]): Promise<Found[]> => {
    splits.count++
    return (await Promise.all(halves(group).map(gather))).flat()
  }

  // A failure: halves, unless both halves fail alike (Qualys' failure, not a query's).
  async function isolate (group: Lookup[], failed: unknown): Promise<Found[]> {
    if (!isIsolable(failed)) return group.map(() => ({ events: [], error: failed }))
    splits.count++
    const parts = halves(group)
    const tries = await Promise.all(parts.map((part) => part.length === 1 ? gather(part) : attempt(part)))
    const [a, b] = tries.map(failureOf)
    if (a !== undefined && alike(a, b)) return group.map(() => ({ events: [], error: a }))
    return (await Promise.all(parts.map((part, i) => {
      const t = tries[i] as Outcome | Found[]
      return Array.isArray(t) ? t : settle(part, t)
    }))).flat()
  }

  async function settle (group: Lookup[], outcome: Outcome): Promise<Found[]> {
    if ('refused' in outcome) return split(group) // the batch-size layer learnt the size
    if ('failed' in outcome) return isolate(group, outcome.failed)
    const { events: mine, doubtful, unexplained } = assign(outcome.events, group)
    if (unexplained) return split(group) // an answer the queries do not explain: smaller ones will
    const full = outcome.events.length >= outcome.pageSize
    const found: Array<Found | undefined> = group.map((_, i) => {
      const theirs = mine[i] ?? []
      if (doubtful[i] === true || (full && theirs.length < need)) return undefined
      return { events: theirs.slice(0, need) }
    })
    const alone = group.filter((_, i) => doubtful[i] === true)
    const again = group.filter((_, i) => found[i] === undefined && doubtful[i] !== true)
    // A full page that settles nobody: halves, so that each asks a page of its own.
    const more = again.length === group.length ? await split(again) : again.length > 0 ? await gather(again) : []
    const single = await Promise.all(alone.map((item) => gather([item])))
    return group.map((item, i) => found[i] ?? (doubtful[i] === true
      ? single[alone.indexOf(item)]?.[0]
      : more[again.indexOf(item)]) ?? { events: [] })
  }

  return gather
}

// Active and Historical are asked at once (Historical for the whole limit), then cut to exactly
// what the one-by-one rule gives: Historical only fills the room Active left, and its errors
// count only where it was needed. Depends on `events` alone.
export async function lookupBatch (events: Events, group: Lookup[], limit: number): Promise<{ looked: Looked[], splits: number }> {
  const splits = { count: 0 }
  const [active, historical] = await Promise.all((['active', 'historical'] as const).map((state) => gatherer(events, limit, state, splits)(group)))
  const looked = group.map((_, i) => {
    const a = active?.[i] ?? { events: [] }
    const kept = { events: a.events.slice(0, limit), error: a.error }
    const room = limit - kept.events.length
    const h = historical?.[i] ?? { events: [] }
    return { active: kept, historical: room > 0 ? { events: h.events.slice(0, room), error: h.error } : { events: [] } }
  })
  return { looked, splits: splits.count }
}
