import { aligned, bucketed, descriptor, hunting, timeFilter, type TileBuilder } from './common.js'

// Events in the period's time buckets — the over-time tile's own call (shared through the lookup
// cache), summed — and among them the malicious (score 8–10) and suspicious (2–7) ones: two
// counts. Its window is the buckets' (from the start of the oldest bar), as observed_time says.
export const summary: TileBuilder = {
  descriptor: descriptor('qualys-ioc-event-summary', 'metric_group', 'Qualys IOC events',
    'Endpoint events recorded by Qualys IOC in the period: all, malicious (score 8–10) and suspicious (score 2–7).'),
  cost: 3,
  async build ({ calls, w, common, platform }) {
    const window = { ...w, from: new Date(aligned(w).from) }
    const time = timeFilter(window)
    const rows: Array<[string, string, string]> = [
      ['view-metadata', 'Events', time],
      ['critical-stop', 'Malicious', `indicator.score:[8..10] and ${time}`],
      ['warning', 'Suspicious', `indicator.score:[2..7] and ${time}`]
    ]
    const counts = await calls.together([
      async () => (await bucketed({ calls, w })).values.reduce((a, b) => a + b, 0),
      () => calls.count(rows[1]?.[2] as string),
      () => calls.count(rows[2]?.[2] as string)
    ])
    return {
      ...common,
      observed_time: { start_time: window.from.toISOString(), end_time: w.to.toISOString() },
      data: rows.map(([icon, label, filter], i) => {
        const link = hunting(platform, filter)
        return { icon, label, value: counts[i] as number, value_unit: 'integer' as const, ...(link === undefined ? {} : { link_uri: link }) }
      })
    }
  }
}
