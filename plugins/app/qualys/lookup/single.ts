import { QUERIES } from '../../../../lib/qualys/qql.js'
import type { Lookup, QualysEvent } from '../../../../schemas/qualys.js'
import { MAX_PAGE } from '../../../../lib/qualys/protocol.js'
import type { Events, EventState } from './events.js'

// What the calls for one observable and state found, newest first, and the error that stopped
// them (what earlier pages found is kept).
export interface Found { events: QualysEvent[], error?: unknown }

// Per observable, what Active and Historical found (each cut as SPEC §4 says), with their errors.
export interface Looked { active: Found, historical: Found }

// Up to `need` newest events of one filter: pages of at most MAX_PAGE, until enough or a short page.
export async function newest (events: Events, filter: string, need: number, state: EventState): Promise<Found> {
  const found: QualysEvent[] = []
  const pageSize = Math.min(need, MAX_PAGE)
  for (let pageNumber = 0; found.length < need; pageNumber++) {
    let page: QualysEvent[]
    try {
      page = await events({ filter, pageSize, pageNumber, state }) as QualysEvent[] // never refused: not a batch
    } catch (error) {
      return { events: found, error }
    }
    found.push(...page.slice(0, pageSize))
    if (page.length < pageSize) break
  }
  return { events: found.slice(0, need) }
}

// SPEC §4: per observable, Active with the limit, then Historical with what room is left.
export async function lookupOne (events: Events, item: Lookup, limit: number): Promise<Looked> {
  const filter = QUERIES[item.type].filter(item.value)
  const active = await newest(events, filter, limit, 'active')
  const room = limit - active.events.length
  return { active, historical: room > 0 ? await newest(events, filter, room, 'historical') : { events: [] } }
}
