import { huntingUrl } from '../../../lib/qualys/qql.js'
import { rfc3339 } from '../../../lib/event-fields.js'
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

const BUCKETS: Record<Period, number> = { last_24_hours: 6, last_7_days: 7, last_30_days: 30 } // 4 h, then daily

// The period's events per time bucket (one Qualys call, shared by the over-time and summary
// tiles through the lookup cache). Qualys cuts its buckets on multiples of their width since the
// epoch, the first one holding fromDate (qualys-api.md §2.6). Asked with both ends on such
// multiples (the last bar holds now), every bucket is one bar; each is placed by the bar that
// holds its start, never by exact key equality, so a shifted, respelled or missing key loses no
// count.
export function aligned (w: Window) {
  const n = BUCKETS[w.period]
  const width = SPAN[w.period] / n
  const to = (Math.floor(w.to.getTime() / width) + 1) * width
  return { n, width, from: to - n * width, to }
}

export async function bucketed ({ calls, w }: Pick<TileContext, 'calls' | 'w'>) {
  const { n, width, from, to } = aligned(w)
  const answer = await calls.timeBuckets(from / 1000, to / 1000, n)
  const values: number[] = Array.from({ length: n }, () => 0)
  for (const [key, value] of Object.entries(answer)) {
    const bar = Math.floor((Date.parse(rfc3339(key.split('_')[0]) ?? '') - from) / width)
    if (bar >= 0 && bar < n) values[bar] = (values[bar] ?? 0) + value
  }
  return { from, width, values }
}

export const hunting = (platform: string | undefined, filter: string) => platform === undefined ? undefined : huntingUrl(platform, filter)

// One tile: its descriptor (what /tiles lists), how its data is built for a period, and how many
// Qualys calls that costs (at most).
export interface TileBuilder {
  descriptor: Tile
  cost: number
  build: (ctx: TileContext) => Promise<TileData>
}

export function descriptor (id: TileId, type: Tile['type'], name: string, description: string, periods: readonly Period[] = PERIODS): Tile {
  return { id, type, title: name, description, short_description: description, tags: [id, 'qualys-ioc'], periods: [...periods], default_period: 'last_7_days' }
}
