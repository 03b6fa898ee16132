import type { RelayErrorBody } from '../schemas/envelope.js'

// SPEC §6 in one module: the envelope, and every error the relay answers in it — its own
// (authorization, invalid argument, overload) and Qualys' (by status, network, deadline).

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

export const authError = (msg: string) => new RelayError('authorization error', `Authorization failed: ${msg}`)

export const invalidArgument = (message: string, type: 'fatal' | 'warning' = 'fatal') =>
  new RelayError('invalid argument', message, type)

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

// The relay's own overload guard (@fastify/under-pressure): a 503 with this error in the envelope.
export const overloaded = () => new RelayError('service unavailable', 'The relay is overloaded. Please try again later.')

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

export const qualysError = {
  unauthorized: (text: string) => new RelayError('authorization error', `Authorization failed: ${qualysMessage(text)}`),
  tooManyRequests: () => new RelayError('too many requests',
    'Too many requests to Qualys IOC have been made. Please try again later.'),
  unavailable: () => new RelayError('service unavailable', 'Service temporarily unavailable. Please try again later.'),
  connection: (apiUrl: string) => new RelayError('connection error',
    `Unable to connect Qualys IOC, validate the configured API URL: ${apiUrl}`),
  tls: (reason: string) => new RelayError('unknown', `Unable to verify SSL certificate: ${cut(reason)}`),
  timeout: (ms: number) => new RelayError('timeout', `Qualys IOC did not answer in time (limit ${ms} ms)`),
  refusedQuery: (text: string) => unexpected('unknown', qualysMessage(text)), // a 400 where "no events" will not do
  invalidBody: (text: string) => unexpected('unknown', text === '' ? 'an invalid answer' : text),
  noApiUrl: () => new RelayError('invalid argument',
    'API_URL is missing: set API_URL in the environment or in the token'),
  hostNotAllowed: (host: string) => new RelayError('authorization error',
    `Authorization failed: API_URL host ${host} is not allowed`)
}

// The SPEC §6 row for a non-2xx answer (401 is handled by the caller: it may refresh first).
export function statusError (status: number, text: string, login: boolean): RelayError {
  if (status === 401) return qualysError.unauthorized(text)
  if (status === 400 && login) return unexpected('authorization error', text)
  if (status === 403) return unexpected('permission denied', text)
  if (status === 429 || status === 409) return qualysError.tooManyRequests()
  if (status === 503) return qualysError.unavailable()
  return unexpected('unknown', text === '' ? `HTTP ${status}` : text)
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|DEPTH_ZERO|HOSTNAME|ALTNAME/

// A failure below HTTP: TLS, or anything that means "could not talk to Qualys".
export function networkError (err: unknown, apiUrl: string): RelayError {
  const e = err as { code?: string, message?: string, cause?: { code?: string, message?: string } }
  const code = e.code ?? e.cause?.code ?? ''
  if (TLS_CODES.test(code)) return qualysError.tls(e.message ?? code)
  return qualysError.connection(apiUrl)
}
