import { bucketed, descriptor, type TileBuilder } from './common.js'

// Events per time bucket, oldest first, empty buckets kept (common.ts: how buckets become bars).
export const overTime: TileBuilder = {
  descriptor: descriptor('qualys-ioc-events-over-time', 'vertical_bar_chart', 'Qualys IOC events over time',
    'Endpoint events recorded by Qualys IOC: six 4-hour bars for 24 hours, daily bars for 7 and 30 days.'),
  cost: 1,
  async build ({ calls, w, common }) {
    const { from, width, values } = await bucketed({ calls, w })
    const hourly = w.period === 'last_24_hours'
    const label = (ms: number) => {
      const d = new Date(ms).toISOString()
      return hourly ? `${d.slice(11, 16)}–${new Date(ms + width).toISOString().slice(11, 16)}` : `${d.slice(5, 7)}/${d.slice(8, 10)}`
    }
    return {
      ...common,
      observed_time: { start_time: new Date(from).toISOString(), end_time: w.to.toISOString() },
      key_type: 'timestamp',
      keys: [{ key: 'events', label: 'Events' }],
      data: values.map((value, i) => {
        const start = from + i * width
        return { key: start, label: label(start), value, values: [{ key: 'events', value, tooltip: `${value} events` }] }
      })
    }
  }
}
