import { Type, type Static } from '@sinclair/typebox'
import { StringEnum } from './string-enum.js'

// XDR dashboard tiles (SPEC §11; shapes as other relays use them: shared/xdr-tiles-verdicts.md).

export const PERIODS = ['last_24_hours', 'last_7_days', 'last_30_days'] as const
export type Period = typeof PERIODS[number]
export const TILE_IDS = ['qualys-ioc-event-summary', 'qualys-ioc-events-by-type', 'qualys-ioc-events-over-time', 'qualys-ioc-latest-malicious'] as const
export type TileId = typeof TILE_IDS[number]

const Time = Type.String({ format: 'date-time' })
const Span = Type.Object({ start_time: Time, end_time: Time })

export const TileSchema = Type.Object({
  id: Type.String(),
  type: StringEnum(['metric_group', 'donut_graph', 'vertical_bar_chart', 'markdown'] as const),
  title: Type.String(),
  description: Type.String(),
  short_description: Type.String(),
  tags: Type.Array(Type.String()),
  periods: Type.Array(Type.String()),
  default_period: Type.String()
}, { $id: 'Tile', description: 'A dashboard tile that XDR can show' })
export type Tile = Static<typeof TileSchema>

// Ajv checks only that `tile_id` and `period` are strings; their values are checked by the route
// (routes/tiles/index.ts names the field and the allowed values): the allowed periods depend on
// the tile, and an unknown tile must not read as a missing field.
export const TileBodySchema = Type.Object({ tile_id: Type.String({ minLength: 1 }) }, { additionalProperties: true, examples: [{ tile_id: 'qualys-ioc-event-summary' }] })
export const TileDataBodySchema = Type.Object({
  tile_id: Type.String({ minLength: 1 }),
  period: Type.Optional(Type.String({ minLength: 1, description: `One of the tile's periods (${PERIODS.join(', ')}); default last_7_days` }))
}, { additionalProperties: true, examples: [{ tile_id: 'qualys-ioc-event-summary', period: 'last_7_days' }] })

const common = {
  observed_time: Span,
  valid_time: Span,
  cache_scope: Type.Literal('org'),
  hide_legend: Type.Boolean()
}

export const MetricGroupDataSchema = Type.Object({
  ...common,
  data: Type.Array(Type.Object({
    icon: Type.String(),
    label: Type.String(),
    value: Type.Integer({ minimum: 0 }),
    value_unit: Type.Literal('integer'),
    link_uri: Type.Optional(Type.String())
  }))
}, { $id: 'MetricGroupData', description: 'metric_group tile data' })

export const DonutDataSchema = Type.Object({
  ...common,
  label_headers: Type.Array(Type.String()),
  labels: Type.Array(Type.Array(Type.String())),
  data: Type.Array(Type.Object({
    key: Type.Integer({ minimum: 0 }),
    value: Type.Integer({ minimum: 0 }),
    segments: Type.Array(Type.Object({ key: Type.Integer({ minimum: 0 }), value: Type.Integer({ minimum: 0 }) }))
  }))
}, { $id: 'DonutData', description: 'donut_graph tile data' })

export const BarChartDataSchema = Type.Object({
  ...common,
  key_type: Type.Literal('timestamp'),
  keys: Type.Array(Type.Object({ key: Type.String(), label: Type.String() })),
  data: Type.Array(Type.Object({
    key: Type.Integer({ description: 'bucket start, epoch milliseconds' }),
    label: Type.String(),
    value: Type.Integer({ minimum: 0 }),
    values: Type.Array(Type.Object({ key: Type.String(), value: Type.Integer({ minimum: 0 }), tooltip: Type.String() }))
  }))
}, { $id: 'BarChartData', description: 'vertical_bar_chart tile data (one bar per time bucket, oldest first)' })

export const MarkdownDataSchema = Type.Object({
  ...common,
  data: Type.Array(Type.String(), { description: 'markdown lines' })
}, { $id: 'MarkdownData', description: 'markdown tile data' })

export type MetricGroupData = Static<typeof MetricGroupDataSchema>
export type DonutData = Static<typeof DonutDataSchema>
export type BarChartData = Static<typeof BarChartDataSchema>
export type MarkdownData = Static<typeof MarkdownDataSchema>
export type TileData = MetricGroupData | DonutData | BarChartData | MarkdownData
