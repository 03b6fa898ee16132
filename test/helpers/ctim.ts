import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormatsModule from 'ajv-formats'
import { IndicatorSchema, JudgementSchema, RelationshipSchema, SightingSchema, VerdictSchema } from '../../schemas/ctim.js'
import { BarChartDataSchema, DonutDataSchema, MarkdownDataSchema, MetricGroupDataSchema, TileSchema } from '../../schemas/tiles.js'

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

const ajv = addFormats(new Ajv2019({ allErrors: true, strict: false }))
for (const schema of [SightingSchema, IndicatorSchema, JudgementSchema, RelationshipSchema, VerdictSchema,
  TileSchema, MetricGroupDataSchema, DonutDataSchema, BarChartDataSchema, MarkdownDataSchema]) ajv.addSchema(schema)

// A tile's data must validate against the TypeBox schema of its tile type.
export function tileErrors (type: 'MetricGroupData' | 'DonutData' | 'BarChartData' | 'MarkdownData' | 'Tile', data: unknown): string[] {
  const validate = ajv.getSchema(type)
  return validate === undefined ? [`no schema ${type}`] : validate(data) === true ? [] : [ajv.errorsText(validate.errors)]
}

// Every CTIM document must validate against the relay's TypeBox schemas of the entity.
export function ctimErrors (data: Record<string, { docs: Array<{ type: string }> }> | undefined): string[] {
  const out: string[] = []
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return out
  for (const { docs } of Object.values(data ?? {})) {
    for (const doc of docs) {
      const id = doc.type.charAt(0).toUpperCase() + doc.type.slice(1)
      const validate = ajv.getSchema(id)
      if (validate === undefined) { out.push(`no schema for ${doc.type}`); continue }
      if (validate(doc) !== true) out.push(`${doc.type}: ${ajv.errorsText(validate.errors)}`)
    }
  }
  return out
}
