import { qualysError, RelayError } from '../../../lib/errors.js'
import { SORT } from '../../../lib/qql.js'
import type { QualysEvent } from '../../../schemas/qualys.js'
import { MARK, TTL } from '../state/keys.js'
import type { Account, SessionLog } from './account.js'
import { Deadline } from './deadline.js'
import { scrub } from '../../../lib/secrets.js'
import { cachedEvents } from './lookup-cache.js'
import { limited } from './limits.js'
import { call, type Caller } from './retry.js'
import { json, parseEvents } from './transport.js'

export type { SessionLog } from './account.js'

export type EventState = 'active' | 'historical'

export interface EventsQuery {
  filter: string
  pageSize: number
  pageNumber?: number // 0-based; left out for the first page
  state: EventState
  batch?: boolean // a refusal (400, 413, 414, 431) throws BatchRejected instead of reading as no events
}

const SORTED = encodeURIComponent(SORT)

// One relay request's conversation with Qualys, for one account: what the lookups, tiles and
// health ask of Qualys, within the request's deadline and the account's cap on calls in flight.
export class Session {
  readonly errors: RelayError[] = []
  private readonly caller: Caller

  constructor (private readonly account: Account, log?: SessionLog) {
    this.caller = { account, deadline: new Deadline(account.deadlineMs), log }
  }

  // The other observables' results survive a failed lookup: its error is kept for the answer.
  // An error that is not a relay error is a bug: it is logged (scrubbed), and answered generically.
  record (err: unknown) {
    if (err instanceof RelayError) {
      this.errors.push(err)
      return
    }
    const e = err instanceof Error ? err : new Error(String(err))
    const secrets = this.account.secrets
    this.caller.log?.error({ error: { type: e.name, message: scrub(e.message, secrets), stack: scrub(e.stack ?? '', secrets) } },
      'unexpected error during a Qualys lookup')
    this.errors.push(new RelayError('unknown', 'Unexpected error while calling Qualys IOC'))
  }

  // /health: a fresh login (it proves the password, not just a cached token) and an uncached call.
  async health (): Promise<void> {
    const { deadline } = this.caller
    deadline.check()
    const token = await deadline.token(this.account.tokens.fresh)
    await limited(this.caller, () => call(this.caller, '/ioc/events', `pageSize=1&state=true&sort=${SORTED}`, parseEvents, { token, strict: true }))
  }

  // The longest filter (encoded) a batched events call may carry: the request target stays under
  // QUALYS_MAX_URL_BYTES, and under what this credential's Qualys accepted after refusing more.
  async maxFilterBytes (): Promise<number> {
    const fixed = new URL(this.account.apiUrl).pathname.replace(/\/+$/, '').length +
      `/ioc/events?pageSize=1000&pageNumber=99&filter=&state=true&sort=${SORTED}`.length
    const learnt = await this.caller.deadline.race(this.account.state.marks.get(this.account.key, MARK.batchBytes))
    return Math.min(this.account.maxUrlBytes - fixed, learnt ?? Infinity)
  }

  // A batch of `bytes` was refused for its size: later batches of this credential, in every
  // replica, start at half of it (what the split then tries), until a refusal teaches less.
  async refused (bytes: number): Promise<void> {
    const { state, key } = this.account
    this.account.onCall?.('batch_refused')
    const known = await this.caller.deadline.race(state.marks.get(key, MARK.batchBytes))
    const learnt = Math.floor(bytes / 2)
    if (known !== undefined && known <= learnt) return
    await state.marks.set(key, MARK.batchBytes, learnt, TTL.learntMs)
    this.account.learnt(learnt)
  }

  // A batch cut in halves (refused, failed, or a full page that settled nobody): for metrics.
  split () {
    this.account.onCall?.('batch_split')
  }

  events ({ filter, pageSize, pageNumber = 0, state, batch = false }: EventsQuery): Promise<QualysEvent[]> {
    const query = `pageSize=${pageSize}${pageNumber > 0 ? `&pageNumber=${pageNumber}` : ''}&filter=${encodeURIComponent(filter)}${state === 'active' ? '&state=true' : ''}&sort=${SORTED}`
    return cachedEvents(this.caller, query, { batch })
  }

  // Dashboard tiles (SPEC §11) read Qualys' historical time series (state=false).
  count (filter: string): Promise<number> {
    return limited(this.caller, () => call(this.caller, '/ioc/events/count', `filter=${encodeURIComponent(filter)}&state=false`, (res) => {
      const count = (json(res) as { count?: unknown } | null)?.count
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw qualysError.invalidBody(res.text)
      return count
    }))
  }

  timeBuckets (fromSec: number, toSec: number, buckets: number): Promise<Record<string, number>> {
    return limited(this.caller, () => call(this.caller, '/ioc/events/count/time-buckets', `fromDate=${fromSec}&toDate=${toSec}&bucketCount=${buckets}`, (res) => {
      const body = json(res)
      if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.values(body).some((n) => typeof n !== 'number')) {
        throw qualysError.invalidBody(res.text)
      }
      return body as Record<string, number>
    }))
  }

  historical (filter: string, pageSize: number): Promise<QualysEvent[]> {
    return limited(this.caller, () => call(this.caller, '/ioc/events', `pageSize=${pageSize}&filter=${encodeURIComponent(filter)}&state=false&sort=${SORTED}`, parseEvents))
  }

  // Calls that only make sense together (one tile): the first failure stops those not yet made,
  // so a failed tile spends no more of the Qualys budget.
  async together<T> (calls: Array<() => Promise<T>>): Promise<T[]> {
    return Promise.all(calls.map((c) => c().catch((err: unknown) => {
      if (err instanceof RelayError) this.caller.deadline.stopOnce(err)
      throw err
    })))
  }

  // A value computed once per credential and key for ttlMs (tile data), from the shared store.
  async cached<T> (key: string, ttlMs: number, compute: () => Promise<T>): Promise<T> {
    const tiles = this.account.state.tiles
    const hit = await tiles.get(this.account.key, key)
    if (hit !== undefined) return hit as T
    const value = await compute()
    if (ttlMs > 0) await tiles.set(this.account.key, key, value, ttlMs)
    return value
  }
}
