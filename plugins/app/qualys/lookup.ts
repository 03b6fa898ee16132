import { QUERIES } from '../../../lib/qql.js'
import type { Lookup } from '../../../lib/relay.js'
import type { Observation } from '../ctim.js'
import type { Session } from './session.js'

// SPEC §4: per observable, Active with pageSize = limit, then Historical with what room is left.
// A failed call is recorded and counts as "no events"; the other calls go on.
async function lookupOne (session: Session, item: Lookup, limit: number): Promise<Observation> {
  const filter = QUERIES[item.type].filter(item.value)
  let active: Observation['active'] = []
  try {
    active = (await session.events(filter, limit, true)).slice(0, limit)
  } catch (err) {
    session.record(err)
  }
  let historical: Observation['historical'] = []
  const room = limit - active.length
  if (room > 0) {
    try {
      historical = (await session.events(filter, room, false)).slice(0, room)
    } catch (err) {
      session.record(err)
    }
  }
  return { ...item, active, historical }
}

// Observables run concurrently; the per-credential limiter inside the session caps the calls.
export function lookupAll (session: Session, items: Lookup[], limit: number): Promise<Observation[]> {
  return Promise.all(items.map((item) => lookupOne(session, item, limit)))
}
