import type { RelayErrorBody } from '../schemas/envelope.js'

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
export function envelope<T extends object> (data: T, errors: RelayError[], opts: { always?: boolean } = {}): { data?: T, errors?: RelayErrorBody[] } {
  if (errors.length === 0) return { data }
  return { ...(opts.always === true || Object.keys(data).length > 0 ? { data } : {}), errors: uniqueErrors(errors) }
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
