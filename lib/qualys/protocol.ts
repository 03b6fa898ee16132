import { request, type Dispatcher } from 'undici'
import { boundedText } from '../bounded-text.js'
import { qualysError, statusError } from '../errors.js'
import { SORT } from './qql.js'
import { USER_AGENT } from '../version.js'
import type { Budget, QualysEvent, Refused } from '../../schemas/qualys.js'

// What Qualys' IOC API is (shared/qualys-api.md), in one module for the relay's client and the
// tenant check: the two exchanges (login, GET), the paths, query strings, headers and statuses,
// and how each answer is read. No retry, cache or limit here: those are the client's layers.

export type Headers = Record<string, string | string[] | undefined>

// What an answer's headers said, read once where the answer arrives (get): the budget
// (X-RateLimit-*), the cap on calls in flight, how long Qualys asked to wait.
export interface Seen { budget?: Budget, concurrency?: number, wait?: number }

// `final`: the query's own answer, the same for whoever asks again soon (see isFinal).
// `replayed`: served by the lookup cache, not by Qualys just now (nothing is `seen` then).
export interface Answer { status: number, headers: Headers, text: string, seen?: Seen, final?: boolean, replayed?: boolean }

export const PATH = { auth: '/auth', events: '/ioc/events', count: '/ioc/events/count', buckets: '/ioc/events/count/time-buckets' } as const
export type ApiPath = typeof PATH[Exclude<keyof typeof PATH, 'auth'>]

// Statuses with which Qualys, or a front end before it, refuses a request for its size or syntax
// (qualys-api.md §2.6: 400, 413, 414 or 431, often an HTML page).
export const REFUSALS: ReadonlySet<number> = new Set([400, 413, 414, 431])

// A text's length once percent-encoded in a request target.
export const encodedLength = (text: string) => encodeURIComponent(text).length
// Throttled (429 on the gateway, 409 on the classic API: wait X-RateLimit-ToWait-Sec), and 503.
export const THROTTLED: ReadonlySet<number> = new Set([409, 429])
export const RETRIED: ReadonlySet<number> = new Set([...THROTTLED, 503])

export const HEADER = {
  limit: 'x-ratelimit-limit',
  remaining: 'x-ratelimit-remaining',
  window: 'x-ratelimit-window-sec',
  toWait: 'x-ratelimit-towait-sec',
  retryAfter: 'retry-after',
  concurrency: ['x-concurrency-limit-limit', 'x-concurrencylimit-limit'] // both spellings are documented
} as const

export const MAX_PAGE = 1000 // every events call asks at most this many (what Qualys' own clients ask)
const MAX_BODY = 64 * 1024 * 1024
const SORTED = encodeURIComponent(SORT)

export const isOk = (status: number) => status >= 200 && status < 300

// `state`: 'true' the Active state, 'false' the historical time series; left out, Historical
// (the reference relay's second pass, SPEC §4).
export interface EventsQuery { filter?: string, pageSize: number, pageNumber?: number, state?: 'true' | 'false' }

export function eventsQuery ({ filter, pageSize, pageNumber = 0, state }: EventsQuery): string {
  return [`pageSize=${pageSize}`, pageNumber > 0 ? `pageNumber=${pageNumber}` : '',
    filter !== undefined ? `filter=${encodeURIComponent(filter)}` : '', state !== undefined ? `state=${state}` : '',
    `sort=${SORTED}`].filter((part) => part !== '').join('&')
}
export const countQuery = (filter: string, state?: 'false') => `filter=${encodeURIComponent(filter)}${state === undefined ? '' : `&state=${state}`}`
export const bucketsQuery = (fromSec: number, toSec: number, buckets: number) => `fromDate=${fromSec}&toDate=${toSec}&bucketCount=${buckets}`
export const HEALTH_QUERY = eventsQuery({ pageSize: 1, state: 'true' }) // REF's /health call

// ---- The two exchanges ----

const readText = (body: Dispatcher.ResponseData['body']) =>
  boundedText(body, MAX_BODY, () => qualysError.invalidBody('the answer is larger than the relay accepts'))

// POST /auth: form-encoded, properly URL-encoded; Qualys answers 201 with the token as text.
export async function login (dispatcher: Dispatcher | undefined, apiUrl: string, user: string, pass: string, signal: AbortSignal): Promise<Answer> {
  const res = await request(`${apiUrl}${PATH.auth}`, {
    method: 'POST',
    dispatcher,
    signal,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT },
    body: new URLSearchParams({ username: user, password: pass, token: 'true' }).toString()
  })
  return { status: res.statusCode, headers: res.headers, text: await readText(res.body) }
}

export async function get (dispatcher: Dispatcher | undefined, url: string, token: string, signal: AbortSignal): Promise<Answer> {
  const res = await request(url, {
    method: 'GET',
    dispatcher,
    signal,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': USER_AGENT }
  })
  const answer = { status: res.statusCode, headers: res.headers, text: await readText(res.body) }
  const seen = { budget: readBudget(res.headers), concurrency: readConcurrency(res.headers), wait: toldWait(res.headers) }
  return { ...answer, seen, final: isFinal(answer) }
}

// ---- Reading answers ----

export function header (headers: Headers, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

// A number from a header as Qualys writes them (qualys-api.md §2.6: `X-RateLimit-Limit: 1000`): a
// count in decimal digits, seconds the same or with a fraction. Anything else is "unknown", never
// 0 nor a number it might spell: missing, empty (seen by Elastic), `abc`, `5 calls`, `-3`, `1e9`.
function numeric (headers: Headers, name: string, kind: 'count' | 'seconds' = 'count'): number | undefined {
  const v = header(headers, name)?.trim()
  const form = kind === 'count' ? /^\d{1,15}$/ : /^\d{1,15}(\.\d{1,6})?$/
  return v === undefined || !form.test(v) ? undefined : Number(v)
}

export function readToken (answer: Answer): string {
  if (!isOk(answer.status)) throw statusError(answer.status, answer.text, true)
  const token = answer.text.trim()
  if (token === '') throw qualysError.invalidBody('an empty token')
  return token
}

function json (answer: Answer): unknown {
  try { return JSON.parse(answer.text) } catch { throw qualysError.invalidBody(answer.text) }
}

export type { Refused } from '../../schemas/qualys.js'

// An events page: a bare JSON array; 204 or an empty body is "no events". A batch refused for its
// size or syntax is a refusal (never "no events"); one observable's 400 or 404 is "no events"
// (SPEC §4, the reference's rule); anything else is the SPEC §6 error.
export function readEvents (answer: Answer, batch: boolean): QualysEvent[] | Refused {
  if (isOk(answer.status)) {
    if (answer.status === 204 || answer.text.trim() === '') return []
    const body = json(answer)
    if (!Array.isArray(body)) throw qualysError.invalidBody(answer.text)
    return body.filter((e): e is QualysEvent => e !== null && typeof e === 'object' && !Array.isArray(e))
  }
  if (batch && REFUSALS.has(answer.status)) return { refused: answer.status }
  if (!batch && (answer.status === 400 || answer.status === 404)) return []
  throw statusError(answer.status, answer.text, false)
}

// Whether an answer is the query's own, final answer, the same for whoever asks again soon (what
// the lookup cache keeps): a 2xx whose body is empty or a whole JSON array or object (not one cut
// short, nor an error page), "no events" (400, 404) and refusals for size or syntax. Never a
// throttling, a refused credential or a failure.
function isFinal ({ status, text }: Pick<Answer, 'status' | 'text'>): boolean {
  if (!isOk(status)) return status === 404 || REFUSALS.has(status)
  let first = 0
  let last = text.length - 1
  while (first <= last && /\s/.test(text.charAt(first))) first++
  while (last >= first && /\s/.test(text.charAt(last))) last--
  if (first > last) return true
  const ends = text.charAt(first) + text.charAt(last)
  return ends === '[]' || ends === '{}'
}

// The health query: any 2xx; a 400 is Qualys refusing it (an error, never "ok").
export function readHealth (answer: Answer): void {
  if (isOk(answer.status)) return
  throw answer.status === 400 ? qualysError.refusedQuery(answer.text) : statusError(answer.status, answer.text, false)
}

export function readCount (answer: Answer): number {
  if (!isOk(answer.status)) throw statusError(answer.status, answer.text, false)
  const count = (json(answer) as { count?: unknown } | null)?.count
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw qualysError.invalidBody(answer.text)
  return count
}

// {"<ISO from>_<ISO to>": n, …}
export function readBuckets (answer: Answer): Record<string, number> {
  if (!isOk(answer.status)) throw statusError(answer.status, answer.text, false)
  const body = json(answer)
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.values(body).some((n) => typeof n !== 'number')) {
    throw qualysError.invalidBody(answer.text)
  }
  return body as Record<string, number>
}

// X-RateLimit-Limit / -Remaining / -Window-Sec when Qualys sends the first two as numbers.
function readBudget (headers: Headers): Budget | undefined {
  const limit = numeric(headers, HEADER.limit)
  const remaining = numeric(headers, HEADER.remaining)
  if (limit === undefined || remaining === undefined || limit <= 0 || remaining < 0) return undefined
  return { limit, remaining: Math.min(remaining, limit), windowSec: numeric(headers, HEADER.window, 'seconds') }
}

// X-Concurrency-Limit-Limit (or X-ConcurrencyLimit-Limit): the subscription's cap on calls in flight.
function readConcurrency (headers: Headers): number | undefined {
  const name = HEADER.concurrency.find((n) => header(headers, n) !== undefined)
  const limit = name === undefined ? undefined : numeric(headers, name)
  return limit !== undefined && Number.isInteger(limit) && limit >= 1 ? limit : undefined
}

// How long Qualys asked to wait, in ms (X-RateLimit-ToWait-Sec, else Retry-After), or undefined.
function toldWait (headers: Headers): number | undefined {
  const toWait = numeric(headers, HEADER.toWait, 'seconds')
  if (toWait !== undefined && toWait >= 0) return toWait * 1000
  const retryAfter = header(headers, HEADER.retryAfter)?.trim()
  if (retryAfter === undefined || retryAfter === '') return undefined
  const seconds = Number(retryAfter)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(retryAfter)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}
