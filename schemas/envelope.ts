import { Type, type TSchema, type Static } from '@sinclair/typebox'
import { StringEnum } from './string-enum.js'
import { AUTH_REASON, ERRORS, example, frameworkError } from './error-catalogue.js'

export const RelayErrorSchema = Type.Object({
  type: StringEnum(['fatal', 'warning'] as const),
  code: Type.String(),
  message: Type.String()
}, { $id: 'RelayError', examples: [example(ERRORS.authorization, { reason: AUTH_REASON.missingHeader })] })

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
const framework = (status: 404 | 405 | 413 | 500) => Type.Object(FrameworkErrorSchema.properties, {
  description: FrameworkErrorSchema.description,
  examples: [frameworkError(status)]
})

export const frameworkErrors = { 404: framework(404), 405: framework(405), 413: framework(413), 500: framework(500) }
