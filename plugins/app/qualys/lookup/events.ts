import { qualysMessage } from '../../../../lib/errors.js'
import { encodedLength, eventsQuery, PATH, readEvents } from '../../../../lib/qualys/protocol.js'
import type { Events, Log, OnCall } from '../../../../schemas/qualys.js'
import type { Ask } from '../chain.js'

export type { Events, EventsRequest, EventState, Refused } from '../../../../schemas/qualys.js'

// A conversation's `events`: each page a cached lookup down the stack; a batched one carries its
// filter's size, which the batch-size layer learns from when Qualys refuses it.
export function eventsOf (ask: Ask, log: Log | undefined, onCall: OnCall): Events {
  return async ({ filter, pageSize, pageNumber, state, batch = false }) => {
    const query = eventsQuery({ filter, pageSize, pageNumber, state: state === 'active' ? 'true' : undefined })
    const answer = await ask(PATH.events, query, batch ? { cached: true, batchBytes: encodedLength(filter) } : { cached: true })
    // One observable's query that Qualys refuses reads as "no events" (SPEC §4), but is seen.
    if (!batch && answer.status === 400 && answer.replayed !== true) {
      onCall('refused_query')
      log?.warn({ status: 400, qualys: qualysMessage(answer.text) }, 'Qualys refused a query (400): read as no events')
    }
    return readEvents(answer, batch)
  }
}
