import type { RelayErrorBody } from '../schemas/envelope.js'

// SPEC §6 in one module: the envelope, every error the relay answers in it — its own
// (authorization, invalid argument, overload) and Qualys' (by status, network, deadline, budget) —
// and the framework's status texts. Code elsewhere branches on these classes and codes only.

export const CODE = {
  auth: 'authorization error',
  invalid: 'invalid argument',
  permission: 'permission denied',
  tooMany: 'too many requests',
  unavailable: 'service unavailable',
  connection: 'connection error',
  timeout: 'timeout',
  unknown: 'unknown'
} as const

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

// A tile or health call not sent: the budget is at its reserve for investigations (SPEC §12).
export class HeldBackError extends RelayError {}

export const authError = (msg: string) => new RelayError(CODE.auth, `Authorization failed: ${msg}`)

export const invalidArgument = (message: string, type: 'fatal' | 'warning' = 'fatal') =>
  new RelayError(CODE.invalid, message, type)

// SPEC §1's message for a body the relay cannot take: `detail` names each field, marshmallow style.
export const invalidPayload = (detail: string) => invalidArgument(`Invalid JSON payload received. ${detail}`)

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
export const overloaded = () => envelope(undefined, [new RelayError(CODE.unavailable, 'The relay is overloaded. Please try again later.')])

// A bug inside a lookup: logged where it happened, answered without internals.
export const unexpectedError = () => new RelayError(CODE.unknown, 'Unexpected error while calling Qualys IOC')

// ---- Framework-level problems (SPEC §1): real status codes, {"code","message","reason"} ----

const STATUS_TEXT: Record<number, [string, string]> = {
  400: ['Bad Request', 'The request could not be parsed.'],
  404: ['Not Found', 'The requested URL was not found on the server.'],
  405: ['Method Not Allowed', 'The method is not allowed for the requested URL.'],
  408: ['Request Timeout', 'The request did not arrive in time.'],
  413: ['Payload Too Large', 'The request body is larger than the relay accepts.'],
  431: ['Request Header Fields Too Large', 'The request headers are larger than the relay accepts.'],
  500: ['Internal Server Error', 'The server encountered an internal error and was unable to complete your request.']
}

export function frameworkError (status: number) {
  const [message, reason] = STATUS_TEXT[status] ?? [`HTTP ${status}`, 'The request could not be handled.']
  return { code: status, message, reason }
}

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

const unexpected = (code: string, text: string) =>
  new RelayError(code, `Unexpected response from Qualys IOC: ${cut(text)}`)

// An instant as SPEC §12 names it: RFC 3339, UTC, whole seconds.
const instant = (ms: number) => new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')

export const qualysError = {
  unauthorized: (text: string) => new RelayError(CODE.auth, `Authorization failed: ${qualysMessage(text)}`),
  tooManyRequests: () => new RelayError(CODE.tooMany,
    'Too many requests to Qualys IOC have been made. Please try again later.'),
  // Qualys asked to wait beyond this request's deadline (SPEC §12): answered at once, saying until when.
  budgetSpent: (untilMs: number, status?: number) => new RelayError(CODE.tooMany,
    `Qualys API budget spent until ${instant(untilMs)}${status === undefined ? '' : ` (${status})`}. Please try again then.`),
  // A tile or health call while the budget is at its reserve (QUALYS_BUDGET_RESERVE).
  heldBack: () => new HeldBackError(CODE.tooMany,
    'Qualys API budget low: held back for investigations (QUALYS_BUDGET_RESERVE). Please try again later.'),
  unavailable: () => new RelayError(CODE.unavailable, 'Service temporarily unavailable. Please try again later.'),
  connection: (apiUrl: string) => new RelayError(CODE.connection,
    `Unable to connect Qualys IOC, validate the configured API URL: ${apiUrl}`),
  tls: (reason: string) => new RelayError(CODE.unknown, `Unable to verify SSL certificate: ${cut(reason)}`),
  timeout: (ms: number) => new RelayError(CODE.timeout, `Qualys IOC did not answer in time (limit ${ms} ms)`),
  refusedQuery: (text: string) => unexpected(CODE.unknown, qualysMessage(text)), // a 400 where "no events" will not do
  invalidBody: (text: string) => unexpected(CODE.unknown, text === '' ? 'an invalid answer' : text),
  noApiUrl: () => new RelayError(CODE.invalid,
    'API_URL is missing: set API_URL in the environment or in the token'),
  hostNotAllowed: (host: string) => new RelayError(CODE.auth,
    `Authorization failed: API_URL host ${host} is not allowed`)
}

// The SPEC §6 row for a non-2xx answer (401 is handled by the caller: it may refresh first).
export function statusError (status: number, text: string, login: boolean): RelayError {
  if (status === 401) return qualysError.unauthorized(text)
  if (status === 400 && login) return unexpected(CODE.auth, text)
  if (status === 403) return unexpected(CODE.permission, text)
  if (status === 429 || status === 409) return qualysError.tooManyRequests()
  if (status === 503) return qualysError.unavailable()
  return unexpected(CODE.unknown, text === '' ? `HTTP ${status}` : text)
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|DEPTH_ZERO|HOSTNAME|ALTNAME/

// A failure below HTTP: TLS, or anything that means "could not talk to Qualys".
export function networkError (err: unknown, apiUrl: string): RelayError {
  const e = err as { code?: string, message?: string, cause?: { code?: string, message?: string } }
  const code = e.code ?? e.cause?.code ?? ''
  if (TLS_CODES.test(code)) return qualysError.tls(e.message ?? code)
  return qualysError.connection(apiUrl)
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
export const isIsolable = (err: unknown): err is RelayError => err instanceof RelayError && ISOLABLE.has(err.code)
