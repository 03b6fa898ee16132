import { QUERIES } from '../../../lib/qql.js'
import type { Lookup } from '../../../lib/relay.js'
import type { Observation } from '../ctim/index.js'
import { str } from '../ctim/mapping.js'
import { lookupOne, safely, type Events } from './single.js'
import { BatchRejected } from './http.js'
import type { QualysEvent, Session } from './session.js'

export const BATCH_MAX = 50 // observables per query: keeps the URL well under common limits
const MAX_PAGE = 1000 // the largest page size the reference relay was run with

// An event's hashes, lower-cased: its file's, or its process image's.
function hashes (event: QualysEvent) {
  const read = (...paths: string[]) => paths.map((p) => str(event, p)?.toLowerCase())
  return {
    md5: read('file.md5', 'process.processFile.md5'),
    sha256: read('file.sha256', 'process.processFile.sha256')
  }
}

// The events of a batched answer per observable, or undefined when an event belongs to no
// observable (the answer is not what we think it is). `full`: the answer filled its page, so an
// observable is only known complete when it already has all the events it needs.
function assign (events: Events, group: Lookup[], pageSize: number): { events: Events[], full: boolean } | undefined {
  const wanted = group.map((item) => ({ type: item.type as 'md5' | 'sha256', value: item.value.toLowerCase() }))
  const out: Events[] = group.map(() => [])
  for (const event of events) {
    const found = hashes(event)
    let owned = false
    wanted.forEach(({ type, value }, i) => {
      if (found[type].includes(value)) {
        out[i]?.push(event)
        owned = true
      }
    })
    if (!owned) return undefined
  }
  return { events: out, full: events.length >= pageSize }
}

type Outcome = { events: Events[], full: boolean } | { fallback: true } | { error: unknown }

async function batchCall (session: Session, filter: string, pageSize: number, active: boolean, group: Lookup[]): Promise<Outcome> {
  try {
    return assign(await session.events(filter, pageSize, active, true), group, pageSize) ?? { fallback: true }
  } catch (err) {
    return err instanceof BatchRejected ? { fallback: true } : { error: err }
  }
}

// What the batch says about observable i when it needs `needed` events; undefined: ask alone.
function take (outcome: Outcome, i: number, needed: number): Events | undefined {
  if ('fallback' in outcome) return undefined
  if ('error' in outcome) return []
  const found = outcome.events[i] ?? []
  return found.length >= needed || !outcome.full ? found.slice(0, needed) : undefined
}

// Active and Historical batches are asked at once (Historical with the full page), then cut to
// exactly what the one-by-one rule gives; a batch that cannot be trusted falls back to it.
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
