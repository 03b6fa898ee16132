import type { Period } from '../../../schemas/tiles.js'
import { rfc3339 } from '../ctim/mapping.js'
import { descriptor, SPAN, type TileBuilder } from './common.js'

const BUCKETS: Record<Period, number> = { last_24_hours: 6, last_7_days: 7, last_30_days: 30 } // 4 h, then daily

// Qualys cuts its buckets on multiples of their width since the epoch, the first one holding
// fromDate (qualys-api.md §2.6). Asked with both ends on such multiples (the last bar holds
// now), every bucket is one bar; each is placed by the bar that holds its start, never by
// exact key equality, so a shifted or missing key loses no count.
export const overTime: TileBuilder = {
  descriptor: descriptor('qualys-ioc-events-over-time', 'vertical_bar_chart', 'Qualys IOC events over time',
    'Endpoint events recorded by Qualys IOC: six 4-hour bars for 24 hours, daily bars for 7 and 30 days.'),
  async build ({ calls, w, common }) {
    const n = BUCKETS[w.period]
    const width = SPAN[w.period] / n
    const to = (Math.floor(w.to.getTime() / width) + 1) * width
    const from = to - n * width
    const answer = await calls.timeBuckets(from / 1000, to / 1000, n)
    const values: number[] = Array.from({ length: n }, () => 0)
    for (const [key, value] of Object.entries(answer)) {
      const bar = Math.floor((Date.parse(rfc3339(key.split('_')[0]) ?? '') - from) / width)
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
}
