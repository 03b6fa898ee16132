import { qualysMessage } from '../../../../lib/errors.js'
import type { QualysEvent } from '../../../../schemas/qualys.js'
import type { Conversation, OnCall } from '../chain.js'
import { eventsQuery, PATH, readEvents, type Refused } from '../../../../lib/qualys/protocol.js'

export type { Refused } from '../../../../lib/qualys/protocol.js'

export type EventState = 'active' | 'historical'

export interface EventsRequest {
  filter: string
  pageSize: number
  pageNumber?: number // 0-based; left out for the first page
  state: EventState
  batch?: boolean // a refusal for size or syntax (400, 413, 414, 431) is returned, never "no events"
}

// The one function lookups depend on: a page of events of one filter and state, newest first
// (a cached lookup), or the refusal of a batched query.
export type Events = (request: EventsRequest) => Promise<QualysEvent[] | Refused>

export function eventsOf (conversation: Conversation, onCall: OnCall): Events {
  return async ({ filter, pageSize, pageNumber, state, batch = false }) => {
    const query = eventsQuery({ filter, pageSize, pageNumber, state: state === 'active' ? 'true' : undefined })
    const answer = await conversation.ask(PATH.events, query, { cached: true })
    // One observable's query that Qualys refuses reads as "no events" (SPEC §4), but is seen.
    if (!batch && answer.status === 400 && answer.replayed !== true) {
      onCall('refused_query')
      conversation.log?.warn({ status: 400, qualys: qualysMessage(answer.text) }, 'Qualys refused a query (400): read as no events')
    }
    return readEvents(answer, batch)
  }
}
