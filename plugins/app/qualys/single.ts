import { QUERIES } from '../../../lib/qql.js'
import type { Lookup, Observation, QualysEvent } from '../../../schemas/qualys.js'
import type { EventState, Session } from './session.js'

export type Events = QualysEvent[]

// What the calls for one observable and state found, newest first, and the error that stopped
// them (what earlier pages found is kept).
export interface Found { events: Events, error?: unknown }

export const MAX_PAGE = 1000 // every call asks at most this many (what Qualys' own clients ask)

// Up to `need` newest events of one filter: pages of at most MAX_PAGE, until enough or a short page.
export async function newest (session: Session, filter: string, need: number, state: EventState): Promise<Found> {
  const events: Events = []
  const pageSize = Math.min(need, MAX_PAGE)
  for (let pageNumber = 0; events.length < need; pageNumber++) {
    let page: Events
    try {
      page = await session.events({ filter, pageSize, pageNumber, state })
    } catch (error) {
      return { events, error }
    }
    events.push(...page.slice(0, pageSize))
    if (page.length < pageSize) break
  }
  return { events: events.slice(0, need) }
}

// A failure is recorded on the session and reads as what was found, so the rest goes on.
export function kept (session: Session, found: Found): Events {
  if (found.error !== undefined) session.record(found.error)
  return found.events
}

// SPEC §4: per observable, Active with the limit, then Historical with what room is left.
export async function lookupOne (session: Session, item: Lookup, limit: number): Promise<Observation> {
  const filter = QUERIES[item.type].filter(item.value)
  const active = kept(session, await newest(session, filter, limit, 'active'))
  const room = limit - active.length
  const historical = room > 0 ? kept(session, await newest(session, filter, room, 'historical')) : []
  return { ...item, active, historical }
}
