import { RelayError } from '../../../lib/errors.js'
import type { QualysEvent } from '../../../schemas/qualys.js'
import type { Conversation } from '../qualys/index.js'
import { bucketsQuery, countQuery, eventsQuery, PATH, readBuckets, readCount, readEvents } from '../../../lib/qualys/protocol.js'

// What tiles ask Qualys (SPEC §11), through the same composed client as lookups: counts, time
// buckets and one page of events, all of Qualys' historical time series (state=false, as its
// own Splunk add-on counts). The tile cache keeps tile data; only the time buckets, which two
// tiles read, go through the lookup cache as well.
export function tileCalls (c: Conversation) {
  return {
    count: async (filter: string): Promise<number> => readCount(await c.ask(PATH.count, countQuery(filter, 'false'))),
    // Shared by the tiles that read the same buckets (over-time and summary) through the lookup cache.
    timeBuckets: async (fromSec: number, toSec: number, buckets: number): Promise<Record<string, number>> =>
      readBuckets(await c.ask(PATH.buckets, bucketsQuery(fromSec, toSec, buckets), { cached: true })),
    historical: async (filter: string, pageSize: number): Promise<QualysEvent[]> =>
      readEvents(await c.ask(PATH.events, eventsQuery({ filter, pageSize, state: 'false' })), false) as QualysEvent[],
    // Calls that only make sense together (one tile): the first failure stops those not yet made,
    // so a failed tile spends no more of the Qualys budget.
    together: <T>(calls: Array<() => Promise<T>>): Promise<T[]> => Promise.all(calls.map((call) => call().catch((err: unknown) => {
      if (err instanceof RelayError) c.deadline.stopOnce(err)
      throw err
    })))
  }
}

export type TileCalls = ReturnType<typeof tileCalls>
