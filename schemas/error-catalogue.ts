// Every text the relay answers an error with, in one leaf module (it imports nothing): the error
// codes and message templates of the envelope (SPEC §2, §6) and the framework's status texts
// (SPEC §1). lib/errors.ts builds the errors from it, the OpenAPI examples render it, and the
// docs are checked against it. A `{name}` in a template is filled in where the error happens.

export const CODE = {
  auth: 'authorization error',
  invalid: 'invalid argument',
  permission: 'permission denied',
  tooMany: 'too many requests',
  unavailable: 'service unavailable',
  connection: 'connection error',
  timeout: 'timeout',
  unknown: 'unknown',
  healthCheck: 'health check failed'
} as const

export type ErrorCode = typeof CODE[keyof typeof CODE]

export interface CatalogueEntry {
  code: ErrorCode
  type: 'fatal' | 'warning'
  text: string
}

const fatal = (code: ErrorCode, text: string): CatalogueEntry => ({ code, type: 'fatal', text })
const warning = (code: ErrorCode, text: string): CatalogueEntry => ({ code, type: 'warning', text })

// Why a token was refused: each is answered as "Authorization failed: <reason>".
export const AUTH_REASON = {
  missingHeader: 'Authorization header is missing',
  wrongType: 'Wrong authorization type',
  structure: 'Wrong JWT structure',
  payload: 'Wrong JWT payload structure',
  expired: 'Token has expired',
  notYetValid: 'Token is not yet valid',
  noSecretKey: '<SECRET_KEY> is missing',
  audience: 'Wrong configuration-token-audience',
  jwksMissing: 'jwks_host is missing in JWT payload. Make sure custom_jwks_host field is present in module_type',
  jwksWrong: 'Wrong jwks_host in JWT payload. Make sure domain follows the visibility.<region>.cisco.com structure',
  kid: 'kid from JWT header not found in API response',
  rsSignature: 'Failed to decode JWT with provided key. Make sure domain in custom_jwks_host corresponds to your SecureX instance region.',
  hsSignature: 'Failed to decode JWT with provided key'
} as const

export const ERRORS = {
  // The token (SPEC §2): the reasons above, and Qualys' own refusal of the credentials.
  authorization: fatal(CODE.auth, 'Authorization failed: {reason}'),
  hostNotAllowed: fatal(CODE.auth, 'Authorization failed: API_URL host {host} is not allowed'),
  // The request (SPEC §1, §3).
  invalidPayload: fatal(CODE.invalid, 'Invalid JSON payload received. {detail}'),
  tooManyObservables: warning(CODE.invalid, 'Too many observables: {sent} supported observables were sent; the first {max} were looked up.'),
  unquotable: warning(CODE.invalid, 'The {name} {value} contains " or `, which Qualys IOC queries cannot quote safely: it was not looked up'),
  noApiUrl: fatal(CODE.invalid, 'API_URL is missing: set API_URL in the environment or in the token'),
  noPlatformUrl: warning(CODE.invalid, 'PLATFORM_URL is missing: set PLATFORM_URL, or an API_URL of the form https://gateway.<pod>, in the environment or the token'),
  // The relay itself.
  overloaded: fatal(CODE.unavailable, 'The relay is overloaded. Please try again later.'),
  unexpected: fatal(CODE.unknown, 'Unexpected error while calling Qualys IOC'),
  healthCheck: fatal(CODE.healthCheck, 'Invalid Health Check'),
  // Qualys' answers (SPEC §6's table) and the budget (SPEC §12).
  qualysRefused: fatal(CODE.auth, 'Unexpected response from Qualys IOC: {answer}'), // a 400 to the login
  qualysForbidden: fatal(CODE.permission, 'Unexpected response from Qualys IOC: {answer}'),
  qualysUnexpected: fatal(CODE.unknown, 'Unexpected response from Qualys IOC: {answer}'),
  tooManyRequests: fatal(CODE.tooMany, 'Too many requests to Qualys IOC have been made. Please try again later.'),
  budgetSpent: fatal(CODE.tooMany, 'Qualys API budget spent until {until}{status}. Please try again then.'),
  heldBack: fatal(CODE.tooMany, 'Qualys API budget low: held back for investigations (QUALYS_BUDGET_RESERVE). Please try again later.'),
  unavailable: fatal(CODE.unavailable, 'Service temporarily unavailable. Please try again later.'),
  connection: fatal(CODE.connection, 'Unable to connect Qualys IOC, validate the configured API URL: {apiUrl}'),
  // The egress proxy (HTTPS_PROXY, HTTP_PROXY) between the relay and Qualys or a JWKS host.
  proxyAuth: fatal(CODE.connection, "Unable to connect Qualys IOC: the egress proxy refused the relay's credentials ({status} from {proxy}): check the user and password in {variable}"),
  proxyRefused: fatal(CODE.connection, 'Unable to connect Qualys IOC: the egress proxy {proxy} refused the tunnel to {target} ({status})'),
  proxyUnreachable: fatal(CODE.connection, 'Unable to connect Qualys IOC through the egress proxy {proxy}: {cause}'),
  tls: fatal(CODE.unknown, 'Unable to verify SSL certificate: {reason}'),
  timeout: fatal(CODE.timeout, 'Qualys IOC did not answer in time (limit {ms} ms)')
} as const satisfies Record<string, CatalogueEntry>

// A template with its `{name}`s filled in; values are inserted as they are (never re-read).
export function render (entry: CatalogueEntry, vars: Record<string, string | number> = {}): string {
  return entry.text.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = vars[name]
    if (value === undefined) throw new Error(`catalogue: no value for {${name}} in "${entry.text}"`)
    return String(value)
  })
}

// Whether a message is one this entry can produce: its fixed text, anything where a `{name}` is.
export function matches (entry: CatalogueEntry, message: string): boolean {
  const parts = entry.text.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('[\\s\\S]*')}$`).test(message)
}

// An entry as the envelope carries it, for examples (with the template's values filled in).
export const example = (entry: CatalogueEntry, vars?: Record<string, string | number>) =>
  ({ type: entry.type, code: entry.code, message: render(entry, vars) })

// Framework-level problems (SPEC §1): real status codes, {"code","message","reason"}.
export const STATUS_TEXT: Record<number, { message: string, reason: string }> = {
  400: { message: 'Bad Request', reason: 'The request could not be parsed.' },
  404: { message: 'Not Found', reason: 'The requested URL was not found on the server.' },
  405: { message: 'Method Not Allowed', reason: 'The method is not allowed for the requested URL.' },
  408: { message: 'Request Timeout', reason: 'The request did not arrive in time.' },
  413: { message: 'Payload Too Large', reason: 'The request body is larger than the relay accepts.' },
  431: { message: 'Request Header Fields Too Large', reason: 'The request headers are larger than the relay accepts.' },
  500: { message: 'Internal Server Error', reason: 'The server encountered an internal error and was unable to complete your request.' }
}

export function frameworkError (status: number) {
  const text = STATUS_TEXT[status] ?? { message: `HTTP ${status}`, reason: 'The request could not be handled.' }
  return { code: status, message: text.message, reason: text.reason }
}
