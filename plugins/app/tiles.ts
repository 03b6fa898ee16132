import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { huntingUrl } from '../../lib/qql.js'
import type { QualysEvent } from '../../schemas/qualys.js'
import {
  PERIODS, TILE_IDS,
  type BarChartData, type DonutData, type MarkdownData, type MetricGroupData, type Period, type Tile, type TileData, type TileId
} from '../../schemas/tiles.js'
import { str } from './ctim/mapping.js'
import type { Session } from './qualys/session.js'

// XDR dashboard tiles (SPEC §11), from Qualys' documented count endpoints and one events call.
// Tiles read the historical time series (state=false), as Qualys' own Splunk add-on counts.
// A dashboard (4 tiles, one period) costs 3 + 5 + 1 + 1 = 10 Qualys calls per credential per
// TILE_CACHE_TTL_S: tile data is cached per credential, tile and period.

const DAY = 86_400_000
const SPAN: Record<Period, number> = { last_24_hours: DAY, last_7_days: 7 * DAY, last_30_days: 30 * DAY }
const BUCKETS: Record<Period, number> = { last_24_hours: 6, last_7_days: 7, last_30_days: 30 } // 4 h, then daily
const EVENT_TYPES = ['FILE', 'PROCESS', 'NETWORK', 'MUTEX', 'REGISTRY']
const title = (type: string) => type.charAt(0) + type.slice(1).toLowerCase()

interface Window { from: Date, to: Date, period: Period }
type Common = Pick<MetricGroupData, 'observed_time' | 'valid_time' | 'cache_scope' | 'hide_legend'>

const timeFilter = ({ from, to }: Window) => `event.datetime:["${from.toISOString()}".."${to.toISOString()}"]`

function descriptor (id: TileId, type: Tile['type'], name: string, description: string, periods: readonly Period[] = PERIODS): Tile {
  return { id, type, title: name, description, short_description: description, tags: [id, 'qualys-ioc'], periods: [...periods], default_period: 'last_7_days' }
}

export const TILES: Record<TileId, Tile> = {
  'qualys-ioc-event-summary': descriptor('qualys-ioc-event-summary', 'metric_group', 'Qualys IOC events',
    'Endpoint events recorded by Qualys IOC in the period: all, malicious (score 8–10) and suspicious (score 2–7).'),
  'qualys-ioc-events-by-type': descriptor('qualys-ioc-events-by-type', 'donut_graph', 'Qualys IOC events by type',
    'Endpoint events recorded by Qualys IOC in the period, by event type.'),
  'qualys-ioc-events-over-time': descriptor('qualys-ioc-events-over-time', 'vertical_bar_chart', 'Qualys IOC events over time',
    'Endpoint events recorded by Qualys IOC: six 4-hour bars for 24 hours, daily bars for 7 and 30 days.'),
  'qualys-ioc-latest-malicious': descriptor('qualys-ioc-latest-malicious', 'markdown', 'Latest malicious Qualys IOC events',
    'The 10 newest events scored 8 or more, with a link to hunt for them in Qualys.')
}

// A markdown table cell: no pipe or line break may end it early.
const cell = (text: string | undefined) => (text ?? '—').replace(/[|\\]/g, (c) => `\\${c}`).replace(/\s+/g, ' ').slice(0, 200)

export function createTiles (opts: { ttlS: number }) {
  const hunting = (platform: string | undefined, filter: string) => platform === undefined ? undefined : huntingUrl(platform, filter)

  async function summary (session: Session, w: Window, common: Common, platform?: string): Promise<MetricGroupData> {
    const time = timeFilter(w)
    const rows: Array<[string, string, string]> = [
      ['view-metadata', 'Events', time],
      ['critical-stop', 'Malicious', `indicator.score:[8..10] and ${time}`],
      ['warning', 'Suspicious', `indicator.score:[2..7] and ${time}`]
    ]
    const counts = await session.together(rows.map(([, , filter]) => () => session.count(filter)))
    return {
      ...common,
      data: rows.map(([icon, label, filter], i) => {
        const link = hunting(platform, filter)
        return { icon, label, value: counts[i] as number, value_unit: 'integer' as const, ...(link === undefined ? {} : { link_uri: link }) }
      })
    }
  }

  async function byType (session: Session, w: Window, common: Common): Promise<DonutData> {
    const time = timeFilter(w)
    const counts = await session.together(EVENT_TYPES.map((type) => () => session.count(`type:${type} and ${time}`)))
    return {
      ...common,
      label_headers: ['Event type', 'Events'],
      labels: [EVENT_TYPES.map(title), ['Events']],
      data: counts.map((value, key) => ({ key, value, segments: [{ key: 0, value }] }))
    }
  }

  // Qualys cuts its buckets on multiples of their width since the epoch, the first one holding
  // fromDate (qualys-api.md §2.6). Asked with both ends on such multiples (the last bar holds
  // now), every bucket is one bar; each is placed by the bar that holds its start, never by
  // exact key equality, so a shifted or missing key loses no count.
  async function overTime (session: Session, w: Window, common: Common): Promise<BarChartData> {
    const n = BUCKETS[w.period]
    const width = SPAN[w.period] / n
    const to = (Math.floor(w.to.getTime() / width) + 1) * width
    const from = to - n * width
    const answer = await session.timeBuckets(from / 1000, to / 1000, n)
    const values: number[] = Array.from({ length: n }, () => 0)
    for (const [key, value] of Object.entries(answer)) {
      const bar = Math.floor((Date.parse(key.split('_')[0] ?? '') - from) / width)
      if (bar >= 0 && bar < n) values[bar] = (values[bar] ?? 0) + value
    }
    const hourly = w.period === 'last_24_hours'
    const label = (ms: number) => {
      const d = new Date(ms).toISOString()
      return hourly ? `${d.slice(11, 16)}–${new Date(ms + width).toISOString().slice(11, 16)}` : `${d.slice(5, 7)}/${d.slice(8, 10)}`
    }
    return {
      ...common,
      key_type: 'timestamp',
      keys: [{ key: 'events', label: 'Events' }],
      data: values.map((value, i) => {
        const start = from + i * width
        return { key: start, label: label(start), value, values: [{ key: 'events', value, tooltip: `${value} events` }] }
      })
    }
  }

  async function latest (session: Session, w: Window, common: Common, platform?: string): Promise<MarkdownData> {
    const filter = `indicator.score>=8 and ${timeFilter(w)}`
    const events = await session.historical(filter, 10)
    const name = (e: QualysEvent) => str(e, 'file.fileName') ?? str(e, 'process.processName') ?? str(e, 'network.remoteDns') ??
      str(e, 'network.remoteIP') ?? str(e, 'handle.name')
    const link = hunting(platform, filter)
    const lines = events.length === 0
      ? ['No event scored 8 or more in this period.']
      : ['| Time (UTC) | Host | Type | Name | Score |', '| --- | --- | --- | --- | --- |',
          ...events.map((e) => `| ${cell(str(e, 'dateTime')?.slice(0, 19).replace('T', ' '))} | ${cell(str(e, 'asset.netBiosName'))} | ` +
            `${cell(str(e, 'type'))} | ${cell(name(e))} | ${cell(str(e, 'score'))} |`)]
    return { ...common, data: link === undefined ? lines : [...lines, '', `[Hunt for them in Qualys](${link})`] }
  }

  return {
    list: () => TILE_IDS.map((id) => TILES[id]),
    // The tile's data for the period, from the cache when a dashboard asked within the TTL.
    data (session: Session, id: TileId, period: Period, platform?: string): Promise<TileData> {
      return session.cached(`tile\u0000${id}\u0000${period}`, opts.ttlS * 1000, async () => {
        const to = new Date()
        const w = { from: new Date(to.getTime() - SPAN[period]), to, period }
        const common: Common = {
          observed_time: { start_time: w.from.toISOString(), end_time: to.toISOString() },
          valid_time: { start_time: to.toISOString(), end_time: new Date(to.getTime() + opts.ttlS * 1000).toISOString() },
          cache_scope: 'org',
          hide_legend: false
        }
        if (id === 'qualys-ioc-event-summary') return summary(session, w, common, platform)
        if (id === 'qualys-ioc-events-by-type') return byType(session, w, common)
        if (id === 'qualys-ioc-events-over-time') return overTime(session, w, common)
        return latest(session, w, common, platform)
      })
    }
  }
}

export type Tiles = ReturnType<typeof createTiles>

declare module 'fastify' {
  interface FastifyInstance {
    tiles: Tiles
  }
}

export default fp(async function tilesPlugin (fastify: FastifyInstance) {
  fastify.decorate('tiles', createTiles({ ttlS: fastify.config.TILE_CACHE_TTL_S }))
}, { name: 'tiles', dependencies: ['env'] })
