import { Type, type TSchema, type Static } from '@sinclair/typebox'
import { StringEnum } from './string-enum.js'
import { FRAMEWORK_ERROR_EXAMPLES } from './examples.js'

export const RelayErrorSchema = Type.Object({
  type: StringEnum(['fatal', 'warning'] as const),
  code: Type.String(),
  message: Type.String()
}, { $id: 'RelayError', examples: [{ type: 'fatal', code: 'authorization error', message: 'Authorization failed: Authorization header is missing' }] })

export type RelayErrorBody = Static<typeof RelayErrorSchema>

// Named examples of an answer, shown by /docs (OpenAPI media examples).
export type Examples = Record<string, { summary: string, value: unknown }>

// What Cisco XDR reads: HTTP 200 with `data`, `errors`, or both.
export function Envelope<T extends TSchema> (data: T, description: string, examples?: Examples) {
  return Type.Object({
    data: Type.Optional(data),
    errors: Type.Optional(Type.Array(Type.Ref(RelayErrorSchema)))
  }, { description, ...(examples === undefined ? {} : { 'x-examples': examples }) })
}

export const FrameworkErrorSchema = Type.Object({
  code: Type.Integer(),
  message: Type.String(),
  reason: Type.String()
}, { $id: 'FrameworkError', description: 'Framework-level problem: unknown route, method, body too large, bug' })

// The same shape inline per status, so that /docs shows each status with its own example (an
// example beside a $ref is dropped from the OpenAPI document).
const framework = (status: keyof typeof FRAMEWORK_ERROR_EXAMPLES) => Type.Object(FrameworkErrorSchema.properties, {
  description: FrameworkErrorSchema.description,
  examples: [FRAMEWORK_ERROR_EXAMPLES[status]]
})

export const frameworkErrors = { 404: framework(404), 405: framework(405), 413: framework(413), 500: framework(500) }
