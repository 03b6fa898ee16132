import type { RelayErrorBody } from '../schemas/envelope.js'
import { AUTH_REASON, CODE, ERRORS, render, type CatalogueEntry } from '../schemas/error-catalogue.js'

// SPEC §6 in one module: the envelope and every error the relay answers in it — its own
// (authorization, invalid argument, overload) and Qualys' (by status, network, deadline, budget),
// their texts from the catalogue (schemas/error-catalogue.ts). Code elsewhere branches on these
// classes and codes only.

export { CODE }

// An error the relay answers inside its envelope (HTTP 200), as Cisco XDR expects.
export class RelayError extends Error {
  readonly type: 'fatal' | 'warning'
  readonly code: string

  constructor (code: string, message: string, type: 'fatal' | 'warning' = 'fatal') {
    super(message)
    this.name = 'RelayError'
    this.code = code
    this.type = type
  }

  toJSON (): RelayErrorBody {
    return { type: this.type, code: this.code, message: this.message }
  }
}

// An error of the catalogue, its template filled in.
export const relayError = (entry: CatalogueEntry, vars?: Record<string, string | number>) =>
  new RelayError(entry.code, render(entry, vars), entry.type)

// A tile or health call not sent: the budget is at its reserve for investigations (SPEC §12).
export class HeldBackError extends RelayError {}

// The token refused, for one of the catalogue's reasons.
export const authError = (reason: keyof typeof AUTH_REASON) => relayError(ERRORS.authorization, { reason: AUTH_REASON[reason] })

// SPEC §1's message for a body the relay cannot take: `detail` names each field, marshmallow style.
export const invalidPayload = (detail: string) => relayError(ERRORS.invalidPayload, { detail })

// The relay's answer: `data` alone, or the errors beside whatever data was found (SPEC §6);
// `always`: data even when empty (refer answers `[]` at least).
export function envelope<T> (data: T, errors: RelayError[], opts: { always?: boolean } = {}): { data?: T, errors?: RelayErrorBody[] } {
  if (errors.length === 0) return { data }
  const found = typeof data === 'object' && data !== null ? Object.keys(data).length > 0 : data !== undefined
  return { ...(opts.always === true || found ? { data } : {}), errors: uniqueErrors(errors) }
}

// Keeps the first of identical errors, in the order they happened.
export function uniqueErrors (errors: Iterable<RelayError>): RelayErrorBody[] {
  const seen = new Map<string, RelayErrorBody>()
  for (const e of errors) {
    const body = e.toJSON()
    const key = `${body.type}\u0000${body.code}\u0000${body.message}`
    if (!seen.has(key)) seen.set(key, body)
  }
  return [...seen.values()]
}

// The relay's own overload guard (@fastify/under-pressure): a 503 with this envelope.
export const overloaded = () => envelope(undefined, [relayError(ERRORS.overloaded)])

// A bug inside a lookup: logged where it happened, answered without internals.
export const unexpectedError = () => relayError(ERRORS.unexpected)

// Framework-level problems (SPEC §1): real status codes, {"code","message","reason"}.
export { frameworkError } from '../schemas/error-catalogue.js'

// ---- Qualys' answers (SPEC §6's table) ----

const MAX_TEXT = 300

// Upstream texts are cut to a sane length and never carry secrets (we never send them back).
export function cut (text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat
}

// Qualys' JSON `message` (or `error`), its CAS `authentication_exceptions`, else the body text.
export function qualysMessage (text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>
    if (typeof body?.message === 'string' && body.message !== '') return cut(body.message)
    if (typeof body?.error === 'string' && body.error !== '') return cut(body.error)
    const list = body?.authentication_exceptions
    if (Array.isArray(list) && list.length > 0) return cut(list.map(String).join(', '))
  } catch {}
  return cut(text)
}

// An instant as SPEC §12 names it: RFC 3339, UTC, whole seconds.
const instant = (ms: number) => new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')

export const qualysError = {
  unauthorized: (text: string) => relayError(ERRORS.authorization, { reason: qualysMessage(text) }),
  tooManyRequests: () => relayError(ERRORS.tooManyRequests),
  // Qualys asked to wait beyond this request's deadline (SPEC §12): answered at once, saying until when.
  budgetSpent: (untilMs: number, status?: number) =>
    relayError(ERRORS.budgetSpent, { until: instant(untilMs), status: status === undefined ? '' : ` (${status})` }),
  // A tile or health call while the budget is at its reserve (QUALYS_BUDGET_RESERVE).
  heldBack: () => new HeldBackError(ERRORS.heldBack.code, render(ERRORS.heldBack)),
  unavailable: () => relayError(ERRORS.unavailable),
  connection: (apiUrl: string) => relayError(ERRORS.connection, { apiUrl }),
  tls: (reason: string) => relayError(ERRORS.tls, { reason: cut(reason) }),
  timeout: (ms: number) => relayError(ERRORS.timeout, { ms }),
  refusedQuery: (text: string) => relayError(ERRORS.qualysUnexpected, { answer: qualysMessage(text) }), // a 400 where "no events" will not do
  invalidBody: (text: string) => relayError(ERRORS.qualysUnexpected, { answer: text === '' ? 'an invalid answer' : cut(text) }),
  noApiUrl: () => relayError(ERRORS.noApiUrl),
  hostNotAllowed: (host: string) => relayError(ERRORS.hostNotAllowed, { host })
}

// The SPEC §6 row for a non-2xx answer (401 is handled by the caller: it may refresh first).
export function statusError (status: number, text: string, login: boolean): RelayError {
  if (status === 401) return qualysError.unauthorized(text)
  if (status === 400 && login) return relayError(ERRORS.qualysRefused, { answer: cut(text) })
  if (status === 403) return relayError(ERRORS.qualysForbidden, { answer: cut(text) })
  if (status === 429 || status === 409) return qualysError.tooManyRequests()
  if (status === 503) return qualysError.unavailable()
  return relayError(ERRORS.qualysUnexpected, { answer: text === '' ? `HTTP ${status}` : cut(text) })
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|DEPTH_ZERO|HOSTNAME|ALTNAME/

// A failure at the egress proxy: the same code as any connection error, but never isolated to
// one observable (the proxy refuses every call alike).
export class ProxyError extends RelayError {}

// The proxy a failed call went through: its host:port (never its user or password) and the
// variable that names it.
export interface ProxyRoute { host: string, variable: string }

// What the proxy's failure was, in words (the log line keeps the code).
const PROXY_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'it refused the connection',
  ENOTFOUND: 'its name does not resolve',
  EAI_AGAIN: 'its name does not resolve',
  UND_ERR_CONNECT_TIMEOUT: 'no connection within QUALYS_CONNECT_TIMEOUT_MS',
  UND_ERR_HEADERS_TIMEOUT: 'no answer to CONNECT within QUALYS_CONNECT_TIMEOUT_MS',
  ECONNRESET: 'it closed the connection',
  UND_ERR_SOCKET: 'it closed the connection',
  UND_ERR_PRX_TLS: 'its own TLS failed',
  UND_ERR_PRX_CONN: 'it closed the connection'
}

// A failure below HTTP: TLS, the egress proxy's, or anything that means "could not talk to Qualys".
export function networkError (err: unknown, apiUrl: string, proxy?: ProxyRoute): RelayError {
  const e = err as { code?: string, message?: string, cause?: { code?: string, message?: string } }
  const code = e.code ?? e.cause?.code ?? ''
  if (TLS_CODES.test(code)) return qualysError.tls(e.message ?? code)
  const inner = e.cause?.code ?? '' // undici wraps a failure inside the tunnel (UND_ERR_PRX_*)
  if (TLS_CODES.test(inner)) return qualysError.tls(e.cause?.message ?? inner)
  if (proxy === undefined) return qualysError.connection(apiUrl)
  const message = e.message ?? ''
  // undici's texts for a refused CONNECT and for a 407 to a forwarded plain-http request. The
  // proxy asks for credentials with 407; some (tinyproxy's BasicAuth) answer 401 to CONNECT.
  const status = /Proxy response \((\d{3})\)/.exec(message)?.[1] ?? (/\(407\)/.test(message) ? '407' : undefined)
  if (status === '407' || status === '401') return new ProxyError(ERRORS.proxyAuth.code, render(ERRORS.proxyAuth, { proxy: proxy.host, status, variable: proxy.variable }))
  if (status !== undefined) return new ProxyError(ERRORS.proxyRefused.code, render(ERRORS.proxyRefused, { proxy: proxy.host, target: new URL(apiUrl).host, status }))
  const cause = PROXY_CAUSES[code] ?? PROXY_CAUSES[inner] ?? `no answer (${networkCause(err)})`
  return new ProxyError(ERRORS.proxyUnreachable.code, render(ERRORS.proxyUnreachable, { proxy: proxy.host, cause }))
}

// What failed below HTTP, for the log line: the error's code (ECONNREFUSED, UND_ERR_SOCKET, …),
// never its message (which may quote an address with credentials in it).
export function networkCause (err: unknown): string {
  const e = err as { code?: string, name?: string, cause?: { code?: string } } | undefined
  return e?.code ?? e?.cause?.code ?? e?.name ?? 'unknown'
}

export const isTimeout = (err: unknown): err is RelayError => err instanceof RelayError && err.code === CODE.timeout

// A failure that may belong to one observable's query (worth isolating in a batch): not a refusal
// of the credential, a throttling wait or the deadline.
const ISOLABLE: ReadonlySet<string> = new Set([CODE.unknown, CODE.unavailable, CODE.connection])
export const isIsolable = (err: unknown): err is RelayError => err instanceof RelayError && !(err instanceof ProxyError) && ISOLABLE.has(err.code)
