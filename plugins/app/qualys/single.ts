import { QUERIES } from '../../../lib/qql.js'
import type { Lookup, Observation, QualysEvent } from '../../../schemas/qualys.js'
import type { Session } from './session.js'

export type Events = QualysEvent[]

// One call; a failure is recorded on the session and reads as "no events" so the rest goes on.
export async function safely (session: Session, filter: string, pageSize: number, active: boolean): Promise<Events> {
  try {
    return (await session.events(filter, pageSize, active)).slice(0, pageSize)
  } catch (err) {
    session.record(err)
    return []
  }
}

// SPEC §4: per observable, Active with pageSize = limit, then Historical with what room is left.
export async function lookupOne (session: Session, item: Lookup, limit: number, known?: Events): Promise<Observation> {
  const filter = QUERIES[item.type].filter(item.value)
  const active = known ?? await safely(session, filter, limit, true)
  const room = limit - active.length
  const historical = room > 0 ? await safely(session, filter, room, false) : []
  return { ...item, active, historical }
}
