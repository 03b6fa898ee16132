import { huntingUrl } from '../../../lib/qql.js'
import { PERIODS, type MetricGroupData, type Period, type Tile, type TileData, type TileId } from '../../../schemas/tiles.js'
import type { TileCalls } from './calls.js'

// What every tile builder gets: the request's Qualys calls, the period's window, the fields every
// tile-data answer carries, and the platform URL for links (when there is one).
export interface Window { from: Date, to: Date, period: Period }
export type Common = Pick<MetricGroupData, 'observed_time' | 'valid_time' | 'cache_scope' | 'hide_legend'>
export interface TileContext { calls: TileCalls, w: Window, common: Common, platform?: string }

const DAY = 86_400_000
export const SPAN: Record<Period, number> = { last_24_hours: DAY, last_7_days: 7 * DAY, last_30_days: 30 * DAY }

export const timeFilter = ({ from, to }: Window) => `event.datetime:["${from.toISOString()}".."${to.toISOString()}"]`

export const hunting = (platform: string | undefined, filter: string) => platform === undefined ? undefined : huntingUrl(platform, filter)

// One tile: its descriptor (what /tiles lists) and how its data is built for a period.
export interface TileBuilder {
  descriptor: Tile
  build: (ctx: TileContext) => Promise<TileData>
}

export function descriptor (id: TileId, type: Tile['type'], name: string, description: string, periods: readonly Period[] = PERIODS): Tile {
  return { id, type, title: name, description, short_description: description, tags: [id, 'qualys-ioc'], periods: [...periods], default_period: 'last_7_days' }
}
