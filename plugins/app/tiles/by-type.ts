import { descriptor, timeFilter, type TileBuilder } from './common.js'

const EVENT_TYPES = ['FILE', 'PROCESS', 'NETWORK', 'MUTEX', 'REGISTRY']
const title = (type: string) => type.charAt(0) + type.slice(1).toLowerCase()

// Events in the period per event type: five counts.
export const byType: TileBuilder = {
  descriptor: descriptor('qualys-ioc-events-by-type', 'donut_graph', 'Qualys IOC events by type',
    'Endpoint events recorded by Qualys IOC in the period, by event type.'),
  cost: 5,
  async build ({ calls, w, common }) {
    const time = timeFilter(w)
    const counts = await calls.together(EVENT_TYPES.map((type) => () => calls.count(`type:${type} and ${time}`)))
    return {
      ...common,
      label_headers: ['Event type', 'Events'],
      labels: [EVENT_TYPES.map(title), ['Events']],
      data: counts.map((value, key) => ({ key, value, segments: [{ key: 0, value }] }))
    }
  }
}
