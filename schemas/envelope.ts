import { Type, type TSchema, type Static } from '@sinclair/typebox'

export const RelayErrorSchema = Type.Object({
  type: Type.Union([Type.Literal('fatal'), Type.Literal('warning')]),
  code: Type.String(),
  message: Type.String()
}, { $id: 'RelayError' })

export type RelayErrorBody = Static<typeof RelayErrorSchema>

// What Cisco XDR reads: HTTP 200 with `data`, `errors`, or both.
export function Envelope<T extends TSchema> (data: T, description: string) {
  return Type.Object({
    data: Type.Optional(data),
    errors: Type.Optional(Type.Array(Type.Ref(RelayErrorSchema)))
  }, { description })
}

export const FrameworkErrorSchema = Type.Object({
  code: Type.Integer(),
  message: Type.String(),
  reason: Type.String()
}, { $id: 'FrameworkError', description: 'Framework-level problem: unknown route, method, body too large, bug' })

export const frameworkErrors = {
  404: Type.Ref(FrameworkErrorSchema),
  405: Type.Ref(FrameworkErrorSchema),
  413: Type.Ref(FrameworkErrorSchema),
  500: Type.Ref(FrameworkErrorSchema)
}
