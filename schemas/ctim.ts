import { Type, type Static } from '@sinclair/typebox'
import { StringEnum } from './string-enum.js'
import { INDICATOR_EXAMPLE, JUDGEMENT_EXAMPLE, RELATIONSHIP_EXAMPLE, SIGHTING_EXAMPLE, VERDICT_EXAMPLE } from './examples.js'

// TypeBox schemas of the four CTIM entities the relay emits (facts: shared/ctim.md, CTIM 1.0.x).
// They are the /observe response schema and the yardstick every test checks documents against.

export const SCHEMA_VERSION = '1.0.17' as const

export const CONFIDENCES = ['Info', 'Low', 'Medium', 'High', 'None', 'Unknown'] as const
export const SEVERITIES = CONFIDENCES
export const OBSERVABLE_TYPES = [
  'domain', 'email', 'file_name', 'file_path', 'hostname', 'ip', 'ipv6', 'mac_address', 'md5',
  'mutex', 'sha1', 'sha256', 'url', 'user', 'process_name', 'process_path', 'registry_key'
] as const
export const DISPOSITIONS = { 1: 'Clean', 2: 'Malicious', 3: 'Suspicious', 4: 'Common', 5: 'Unknown' } as const

// CTIM's length limits on the texts we emit (SPEC §5): longer texts are cut to them.
export const MAX_SHORT = 1024 // titles, reasons, producer, os
export const MAX_DESCRIPTION = 5000

// CTIM rejects blank strings anywhere: every string we emit holds a non-space character.
const NonBlank = (opts: { maxLength?: number } = {}) => Type.String({ minLength: 1, pattern: '\\S', ...opts })

const Id = Type.String({ maxLength: 2048, pattern: '^transient:.+' })
const Time = Type.String({ format: 'date-time' })
const Confidence = StringEnum(CONFIDENCES)
const SeveritySchema = StringEnum(SEVERITIES)
const Strings = Type.Array(NonBlank())

export const CtimObservableSchema = Type.Object({
  type: StringEnum(OBSERVABLE_TYPES),
  value: NonBlank()
}, { additionalProperties: false })

const ObservedTime = Type.Object({
  start_time: Time,
  end_time: Type.Optional(Time)
}, { additionalProperties: false })
const ValidTime = Type.Object({
  start_time: Type.Optional(Time),
  end_time: Type.Optional(Time)
}, { additionalProperties: false })

const ExternalReference = Type.Object({
  source_name: NonBlank(),
  description: Type.Optional(NonBlank({ maxLength: MAX_DESCRIPTION })),
  url: Type.Optional(NonBlank())
})

const base = {
  id: Id,
  schema_version: Type.Literal(SCHEMA_VERSION),
  source: NonBlank(),
  external_ids: Type.Optional(Strings)
}

export const SightingSchema = Type.Object({
  ...base,
  type: Type.Literal('sighting'),
  confidence: Confidence,
  count: Type.Integer({ minimum: 0 }),
  observed_time: ObservedTime,
  external_references: Type.Optional(Type.Array(ExternalReference)),
  observables: Type.Array(CtimObservableSchema),
  relations: Type.Array(Type.Object({
    origin: NonBlank(),
    relation: NonBlank(),
    source: CtimObservableSchema,
    related: CtimObservableSchema
  }, { additionalProperties: false })),
  severity: SeveritySchema,
  sensor: NonBlank(),
  targets: Type.Array(Type.Object({
    type: NonBlank(),
    observables: Type.Array(CtimObservableSchema),
    observed_time: ObservedTime,
    os: Type.Optional(NonBlank({ maxLength: MAX_SHORT }))
  }, { additionalProperties: false })),
  description: NonBlank({ maxLength: MAX_DESCRIPTION }),
  data: Type.Object({
    columns: Type.Array(Type.Object({
      name: NonBlank(),
      type: StringEnum(['observable', 'string', 'markdown', 'integer', 'number', 'url'])
    }, { additionalProperties: false })),
    rows: Type.Array(Type.Array(NonBlank())),
    row_count: Type.Integer({ minimum: 0 })
  }, { additionalProperties: false })
}, { $id: 'Sighting', additionalProperties: false, examples: [SIGHTING_EXAMPLE] })

export const IndicatorSchema = Type.Object({
  ...base,
  type: Type.Literal('indicator'),
  title: NonBlank({ maxLength: MAX_SHORT }),
  producer: NonBlank({ maxLength: MAX_SHORT }),
  severity: SeveritySchema,
  valid_time: ValidTime,
  confidence: Confidence
}, { $id: 'Indicator', additionalProperties: false, examples: [INDICATOR_EXAMPLE] })

// disposition and disposition_name must agree: one literal pair per allowed disposition.
const DispositionPair = Type.Union(Object.entries(DISPOSITIONS).map(([n, name]) => Type.Object({
  disposition: Type.Literal(Number(n)),
  disposition_name: Type.Literal(name)
})))

export const JudgementSchema = Type.Intersect([
  Type.Object({
    ...base,
    type: Type.Literal('judgement'),
    confidence: Confidence,
    external_references: Type.Optional(Type.Array(ExternalReference)),
    observable: CtimObservableSchema,
    priority: Type.Integer({ minimum: 0, maximum: 90 }),
    reason: Type.Optional(NonBlank({ maxLength: MAX_SHORT })),
    severity: SeveritySchema,
    valid_time: ValidTime
  }),
  DispositionPair
], { $id: 'Judgement', unevaluatedProperties: false, examples: [JUDGEMENT_EXAMPLE] })

export const RelationshipSchema = Type.Object({
  ...base,
  type: Type.Literal('relationship'),
  relationship_type: NonBlank(),
  source_ref: Id,
  target_ref: Id
}, { $id: 'Relationship', additionalProperties: false, examples: [RELATIONSHIP_EXAMPLE] })

const docs = <T extends ReturnType<typeof Type.Ref>>(ref: T) =>
  Type.Object({ count: Type.Integer({ minimum: 0 }), docs: Type.Array(ref) })

export const ObserveDataSchema = Type.Object({
  sightings: Type.Optional(docs(Type.Ref(SightingSchema))),
  indicators: Type.Optional(docs(Type.Ref(IndicatorSchema))),
  judgements: Type.Optional(docs(Type.Ref(JudgementSchema))),
  relationships: Type.Optional(docs(Type.Ref(RelationshipSchema)))
}, { description: 'CTIM documents; a key is present only when it has documents' })

// A verdict (CTIM doc/structures/verdict.md): the one disposition of an observable, bounded in time.
export const VerdictSchema = Type.Intersect([
  Type.Object({
    type: Type.Literal('verdict'),
    observable: CtimObservableSchema,
    valid_time: Type.Object({ start_time: Time, end_time: Time }, { additionalProperties: false })
  }),
  DispositionPair
], { $id: 'Verdict', unevaluatedProperties: false, examples: [VERDICT_EXAMPLE] })

export const DeliberateDataSchema = Type.Object({
  verdicts: Type.Optional(docs(Type.Ref(VerdictSchema)))
}, { description: 'CTIM verdicts, one per observable with judgements; absent when there is none' })

export type Verdict = Static<typeof VerdictSchema>
export type DeliberateData = Static<typeof DeliberateDataSchema>
export type Sighting = Static<typeof SightingSchema>
export type Indicator = Static<typeof IndicatorSchema>
export type Judgement = Static<typeof JudgementSchema>
export type Relationship = Static<typeof RelationshipSchema>
export type CtimObservable = Static<typeof CtimObservableSchema>
export type Severity = Static<typeof SeveritySchema>
export type ObserveData = Static<typeof ObserveDataSchema>
