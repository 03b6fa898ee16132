import { Type, type Static } from '@sinclair/typebox'
import { OBSERVABLES_EXAMPLE } from './examples.js'

// Extra properties are allowed: XDR may add some, and rejecting them would break whole requests.
export const ObservableSchema = Type.Object({
  type: Type.String({ minLength: 1, description: 'Observable type, e.g. sha256, ip, domain' }),
  value: Type.String({ minLength: 1 })
}, { additionalProperties: true })

export const ObservablesSchema = Type.Array(ObservableSchema, {
  description: 'Observables to look up; unsupported types are ignored',
  examples: [OBSERVABLES_EXAMPLE]
})

export type Observable = Static<typeof ObservableSchema>

export const SUPPORTED_TYPES = ['md5', 'sha256', 'file_name', 'file_path', 'ip', 'ipv6', 'domain', 'mutex'] as const
export type SupportedType = typeof SUPPORTED_TYPES[number]

export function isSupported (type: string): type is SupportedType {
  return (SUPPORTED_TYPES as readonly string[]).includes(type)
}

// Keeps the supported observables, each (type, value) pair once, in request order. A blank value
// (spaces only) is skipped like an unsupported type: it finds nothing and is not valid CTIM.
export function uniqueSupported (observables: Observable[]): Array<{ type: SupportedType, value: string }> {
  const seen = new Set<string>()
  const out: Array<{ type: SupportedType, value: string }> = []
  for (const { type, value } of observables) {
    if (!isSupported(type) || !/\S/.test(value)) continue
    const key = `${type}\u0000${value}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ type, value })
  }
  return out
}
