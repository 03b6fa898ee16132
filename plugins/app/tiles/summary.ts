import { descriptor, hunting, timeFilter, type TileBuilder } from './common.js'

// All events in the period, malicious (score 8–10) and suspicious (2–7): three counts.
export const summary: TileBuilder = {
  descriptor: descriptor('qualys-ioc-event-summary', 'metric_group', 'Qualys IOC events',
    'Endpoint events recorded by Qualys IOC in the period: all, malicious (score 8–10) and suspicious (score 2–7).'),
  async build ({ calls, w, common, platform }) {
    const time = timeFilter(w)
    const rows: Array<[string, string, string]> = [
      ['view-metadata', 'Events', time],
      ['critical-stop', 'Malicious', `indicator.score:[8..10] and ${time}`],
      ['warning', 'Suspicious', `indicator.score:[2..7] and ${time}`]
    ]
    const counts = await calls.together(rows.map(([, , filter]) => () => calls.count(filter)))
    return {
      ...common,
      data: rows.map(([icon, label, filter], i) => {
        const link = hunting(platform, filter)
        return { icon, label, value: counts[i] as number, value_unit: 'integer' as const, ...(link === undefined ? {} : { link_uri: link }) }
      })
    }
  }
}
