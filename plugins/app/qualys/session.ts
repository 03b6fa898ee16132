import { setTimeout as sleep } from 'node:timers/promises'
import { request, type Dispatcher } from 'undici'
import { BatchRejected, header, readText, retryDelay, RETRIED, toldWait, type Answer } from './http.js'
import { RelayError } from '../../../lib/errors.js'
import { SORT } from '../../../lib/qql.js'
import type { Budget, QualysEvent } from '../../../schemas/qualys.js'
import type { State } from '../state/index.js'
import { MARK, TTL } from '../state/keys.js'
import { networkError, qualysError, qualysMessage, scrub, statusError } from './errors.js'

// What a session shares with every other session of the same credential (owned by the client).
export interface Shared {
  dispatcher: Dispatcher
  userAgent: string
  deadlineMs: number
  retries: number
  concurrency: number // calls in flight; lowered when Qualys announces less
  token: () => Promise<string> // cached, single-flight login
  login: () => Promise<string> // a new login (joins one already under way)
  refresh: (stale: string) => Promise<string> // one new login, shared by concurrent 401s
  // Lookups (for lookupTtlMs; 0: off), tile data, what Qualys taught, the locks and the cap on
  // calls in flight: in the process, or shared by the replicas through Redis.
  state: State
  lookupTtlMs: number
  inflight?: Map<string, Promise<QualysEvent[]>> // identical lookups under way, with the cache on
  cacheKey: string
  secrets: string[] // scrubbed from every upstream text
  onCall?: (outcome: string) => void
  budget: (budget: Budget, log?: SessionLog) => void // Qualys' X-RateLimit-* headers, when sent
  learnt: (batchBytes: number) => void // the batch size this account's Qualys accepts, for metrics
  maxUrlBytes: number // QUALYS_MAX_URL_BYTES: the longest request target the relay sends
}

export type EventState = 'active' | 'historical'

export interface EventsQuery {
  filter: string
  pageSize: number
  pageNumber?: number // 0-based; left out for the first page
  state: EventState
  batch?: boolean // a refusal (400, 413, 414, 431) throws BatchRejected instead of reading as no events
}

interface CallOptions {
  token?: string // a token obtained by the caller (health's fresh login)
  batch?: boolean
  strict?: boolean // a 400 or 404 is an error (the health query), never "no events"
}

// Statuses with which Qualys, or a front end before it, refuses a request for its size or syntax.
const REFUSALS = new Set([400, 413, 414, 431])

const SORTED = encodeURIComponent(SORT)

// X-RateLimit-Limit / -Remaining / -Window-Sec, when Qualys sends the first two as numbers.
function readBudget (headers: Answer['headers']): Budget | undefined {
  const num = (name: string) => {
    const v = header(headers, name)
    return v === undefined || v.trim() === '' ? NaN : Number(v)
  }
  const limit = num('x-ratelimit-limit')
  const remaining = num('x-ratelimit-remaining')
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || limit <= 0) return undefined
  const windowSec = num('x-ratelimit-window-sec')
  return { limit, remaining, windowSec: Number.isFinite(windowSec) ? windowSec : undefined }
}

// Where a session reports a bug (an error that is not a relay error): the request's logger.
export interface SessionLog {
  error: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

// One relay request's conversation with Qualys: a shared deadline, and a stop once
// authentication has failed so that no further call or login is made for this request.
export class Session {
  readonly errors: RelayError[] = []
  private stopped?: RelayError
  private readonly signal: AbortSignal
  private readonly deadline: number

  constructor (private readonly apiUrl: string, private readonly shared: Shared, private readonly log?: SessionLog) {
    this.signal = AbortSignal.timeout(shared.deadlineMs)
    this.deadline = Date.now() + shared.deadlineMs
  }

  // The other observables' results survive a failed lookup: its error is kept for the answer.
  // An error that is not a relay error is a bug: it is logged (scrubbed), and answered generically.
  record (err: unknown) {
    if (err instanceof RelayError) {
      this.errors.push(err)
      return
    }
    const e = err instanceof Error ? err : new Error(String(err))
    this.log?.error({ error: { type: e.name, message: scrub(e.message, this.shared.secrets), stack: scrub(e.stack ?? '', this.shared.secrets) } },
      'unexpected error during a Qualys lookup')
    this.errors.push(new RelayError('unknown', 'Unexpected error while calling Qualys IOC'))
  }

  // /health: a fresh login (it proves the password, not just a cached token) and an uncached call.
  async health (): Promise<void> {
    this.check()
    const token = await this.withStop(this.shared.login)
    await this.limited(() => this.call('/ioc/events', `pageSize=1&state=true&sort=${SORTED}`, (res) => this.parse(res), { token, strict: true }))
  }

  // The longest filter (encoded) a batched events call may carry: the request target stays under
  // QUALYS_MAX_URL_BYTES, and under what this credential's Qualys accepted after refusing more.
  async maxFilterBytes (): Promise<number> {
    const fixed = new URL(this.apiUrl).pathname.replace(/\/+$/, '').length +
      `/ioc/events?pageSize=1000&pageNumber=99&filter=&state=true&sort=${SORTED}`.length
    const learnt = await this.race(this.shared.state.marks.get(this.shared.cacheKey, MARK.batchBytes))
    return Math.min(this.shared.maxUrlBytes - fixed, learnt ?? Infinity)
  }

  // A batch of `bytes` was refused for its size: later batches of this credential, in every
  // replica, start at half of it (what the split then tries), until a refusal teaches less.
  async refused (bytes: number): Promise<void> {
    this.shared.onCall?.('batch_refused')
    const known = await this.race(this.shared.state.marks.get(this.shared.cacheKey, MARK.batchBytes))
    const learnt = Math.floor(bytes / 2)
    if (known !== undefined && known <= learnt) return
    await this.shared.state.marks.set(this.shared.cacheKey, MARK.batchBytes, learnt, TTL.learntMs)
    this.shared.learnt(learnt)
  }

  // A batch cut in halves (refused, failed, or a full page that settled nobody): for metrics.
  split () {
    this.shared.onCall?.('batch_split')
  }

  async events ({ filter, pageSize, pageNumber = 0, state, batch = false }: EventsQuery): Promise<QualysEvent[]> {
    const query = `pageSize=${pageSize}${pageNumber > 0 ? `&pageNumber=${pageNumber}` : ''}&filter=${encodeURIComponent(filter)}${state === 'active' ? '&state=true' : ''}&sort=${SORTED}`
    const key = `${this.shared.cacheKey}\u0000${query}`
    const caching = this.shared.lookupTtlMs > 0
    const lookups = this.shared.state.lookups
    const hit = caching ? await lookups.get(this.shared.cacheKey, query) : undefined
    if (hit !== undefined) {
      this.shared.onCall?.('cache_hit')
      return hit
    }
    if (caching) this.shared.onCall?.('cache_miss')
    const inflight = this.shared.inflight
    const shared = inflight?.get(key)
    if (shared !== undefined) {
      this.shared.onCall?.('coalesced')
      try {
        return await this.race(shared)
      } catch (err) {
        // The request that made the call ran out of time (or stopped): ask again on our own.
        if (!(err instanceof RelayError && err.code === 'timeout' && !this.signal.aborted)) throw err
      }
    }
    const fetch = () => this.limited(() => this.call('/ioc/events', query, (res) => this.parse(res), { batch }))
    if (inflight === undefined) return await fetch() // exists exactly when the cache does
    // One fetch per lookup across the replicas: under the store's lock for this query, after
    // looking again whether another replica fetched it meanwhile.
    const call = this.shared.state.exclusive(this.shared.cacheKey, `lookup\u0000${query}`, this.signal, async () => {
      const fetched = await lookups.get(this.shared.cacheKey, query)
      if (fetched !== undefined) {
        this.shared.onCall?.('coalesced')
        return fetched
      }
      const events = await fetch()
      await lookups.set(this.shared.cacheKey, query, events, this.shared.lookupTtlMs)
      return events
    }).catch((err: unknown) => {
      // Sessions waiting on this call (coalesced) read a deadline as the relay's timeout error.
      throw this.signal.aborted && !(err instanceof RelayError) ? qualysError.timeout(this.shared.deadlineMs) : err
    })
    inflight.set(key, call)
    call.catch(() => {}).finally(() => inflight.delete(key))
    return await this.race(call)
  }

  // Dashboard tiles (SPEC §11) read Qualys' historical time series (state=false).
  async count (filter: string): Promise<number> {
    return this.limited(() => this.call('/ioc/events/count', `filter=${encodeURIComponent(filter)}&state=false`, (res) => {
      const count = (this.json(res) as { count?: unknown } | null)?.count
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw qualysError.invalidBody(res.text)
      return count
    }))
  }

  async timeBuckets (fromSec: number, toSec: number, buckets: number): Promise<Record<string, number>> {
    return this.limited(() => this.call('/ioc/events/count/time-buckets', `fromDate=${fromSec}&toDate=${toSec}&bucketCount=${buckets}`, (res) => {
      const body = this.json(res)
      if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.values(body).some((n) => typeof n !== 'number')) {
        throw qualysError.invalidBody(res.text)
      }
      return body as Record<string, number>
    }))
  }

  async historical (filter: string, pageSize: number): Promise<QualysEvent[]> {
    return this.limited(() => this.call('/ioc/events', `pageSize=${pageSize}&filter=${encodeURIComponent(filter)}&state=false&sort=${SORTED}`, (res) => this.parse(res)))
  }

  // Calls that only make sense together (one tile): the first failure stops those not yet made,
  // so a failed tile spends no more of the Qualys budget.
  async together<T> (calls: Array<() => Promise<T>>): Promise<T[]> {
    return Promise.all(calls.map((call) => call().catch((err: unknown) => {
      if (err instanceof RelayError) this.stopped ??= err
      throw err
    })))
  }

  // A value computed once per credential and key for ttlMs (tile data), from the shared store.
  async cached<T> (key: string, ttlMs: number, compute: () => Promise<T>): Promise<T> {
    const tiles = this.shared.state.tiles
    const hit = await tiles.get(this.shared.cacheKey, key)
    if (hit !== undefined) return hit as T
    const value = await compute()
    if (ttlMs > 0) await tiles.set(this.shared.cacheKey, key, value, ttlMs)
    return value
  }

  // A call within the cap on calls in flight (the lowest of QUALYS_CONCURRENCY and what any
  // replica learnt from Qualys); waiting for a slot counts against this request's deadline.
  private async limited<T> (fn: () => Promise<T>): Promise<T> {
    const { state, cacheKey, concurrency } = this.shared
    const learnt = await this.race(state.marks.get(cacheKey, MARK.concurrency))
    const cap = learnt !== undefined && learnt >= 1 ? Math.min(concurrency, learnt) : concurrency
    return this.race(state.slot(cacheKey, cap, this.signal, fn))
  }

  // After Qualys asked to wait (429/409), no session of this credential, in any replica, calls
  // it before the wait is over; a wait beyond this request's deadline fails it at once.
  private async throttled () {
    const until = await this.race(this.shared.state.marks.get(this.shared.cacheKey, MARK.throttled))
    const wait = until !== undefined ? until - Date.now() : 0
    if (wait <= 0) return
    if (Date.now() + wait >= this.deadline) throw qualysError.tooManyRequests()
    this.shared.onCall?.('throttled')
    await sleep(wait, undefined, { signal: this.signal }).catch(() => {})
    this.check()
  }

  private check () {
    if (this.stopped !== undefined) throw this.stopped
    if (this.signal.aborted) throw qualysError.timeout(this.shared.deadlineMs)
  }

  private stop (err: RelayError): never {
    this.stopped ??= err
    throw this.stopped
  }

  // A token for this request. A shared login that timed out for an earlier request is tried
  // again while this request still has time; any other login failure stops the request.
  private async withStop (get: () => Promise<string>): Promise<string> {
    try {
      return await this.race(get())
    } catch (err) {
      if (err instanceof RelayError && err.code === 'timeout' && !this.signal.aborted) return this.withStop(get)
      if (err instanceof RelayError && err.code !== 'timeout') this.stop(err)
      throw err
    }
  }

  // A shared login may outlive this request's deadline: stop waiting for it when ours passes.
  private race<T> (p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(qualysError.timeout(this.shared.deadlineMs))
      if (this.signal.aborted) onAbort()
      else this.signal.addEventListener('abort', onAbort, { once: true })
      p.then(resolve, reject).finally(() => this.signal.removeEventListener('abort', onAbort))
    })
  }

  // One GET of the API with this request's token: one refresh on a 401, retries on 429/409/503.
  // A 400 or 404 reads as "nothing" (events; the 400 logged and counted, since it is also how
  // Qualys refuses a query), except for a batch, which is refused instead, and for the health
  // query, for which it is an error.
  private async call<T> (path: string, query: string, parse: (res: Answer) => T, opts: CallOptions = {}): Promise<T> {
    this.check()
    let token = opts.token ?? await this.withStop(this.shared.token)
    let refreshed = false
    for (let attempt = 0; ; attempt++) {
      await this.throttled()
      const res = await this.send(`${this.apiUrl}${path}?${query}`, token)
      if (res.status >= 200 && res.status < 300) return parse(res)
      if (opts.batch === true && REFUSALS.has(res.status)) throw new BatchRejected(res.status)
      if (opts.strict === true && res.status === 400) throw qualysError.refusedQuery(res.text)
      if ((res.status === 400 || res.status === 404) && path === '/ioc/events' && opts.strict !== true) {
        if (res.status === 400) {
          this.shared.onCall?.('refused_query')
          this.log?.warn({ status: 400, qualys: qualysMessage(res.text) }, 'Qualys refused a query (400): read as no events')
        }
        return parse({ ...res, status: 204, text: '' })
      }
      if (res.status === 401) {
        if (refreshed) this.stop(statusError(401, res.text, false))
        refreshed = true
        const stale = token
        token = await this.withStop(() => this.shared.refresh(stale))
        continue
      }
      if (RETRIED.has(res.status)) {
        const wait = retryDelay(res.headers, attempt)
        // A wait Qualys named (429/409) binds every session of the credential, in every replica.
        if (res.status !== 503 && toldWait(res.headers)) {
          await this.shared.state.marks.set(this.shared.cacheKey, MARK.throttled, Date.now() + wait, wait)
        }
        if (attempt < this.shared.retries && Date.now() + wait < this.deadline) {
          this.shared.onCall?.('retry')
          await sleep(wait, undefined, { signal: this.signal }).catch(() => {})
          this.check()
          continue
        }
      }
      throw statusError(res.status, res.text, false)
    }
  }

  private json (res: Answer): unknown {
    try { return JSON.parse(res.text) } catch { throw qualysError.invalidBody(res.text) }
  }

  private parse (res: Answer): QualysEvent[] {
    if (res.status === 204 || res.text.trim() === '') return []
    const body = this.json(res)
    if (!Array.isArray(body)) throw qualysError.invalidBody(res.text)
    return body.filter((e): e is QualysEvent => e !== null && typeof e === 'object' && !Array.isArray(e))
  }

  private async send (url: string, token: string): Promise<Answer> {
    this.check()
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: this.shared.dispatcher,
        signal: this.signal,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': this.shared.userAgent }
      })
      // Both spellings Qualys documents (qualys-api.md §2.6).
      const limit = Number(header(res.headers, 'x-concurrency-limit-limit') ?? header(res.headers, 'x-concurrencylimit-limit'))
      if (Number.isInteger(limit) && limit >= 1 && limit < this.shared.concurrency) {
        this.shared.concurrency = limit
        this.shared.state.marks.set(this.shared.cacheKey, MARK.concurrency, limit, TTL.learntMs).catch(() => {})
      }
      const budget = readBudget(res.headers)
      if (budget !== undefined) this.shared.budget(budget, this.log)
      const text = scrub(await readText(res.body), [...this.shared.secrets, token])
      this.shared.onCall?.(String(res.statusCode))
      return { status: res.statusCode, headers: res.headers, text }
    } catch (err) {
      if (this.signal.aborted) throw qualysError.timeout(this.shared.deadlineMs)
      if (err instanceof RelayError) throw err
      this.shared.onCall?.('network_error')
      throw networkError(err, this.apiUrl)
    }
  }
}
