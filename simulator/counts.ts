import type http from 'node:http'
import { ordinal, type Event } from './qql.js'
import type { SimCall, SimulatorOptions } from './types.js'

// Counts per time bucket as Qualys' documented sample answers (qualys-api.md §2.6): width =
// (toDate − fromDate) / bucketCount, every key on a multiple of the width since the epoch, the
// first bucket the one that holds fromDate, exactly bucketCount of them, keyed
// `<ISO from>_<ISO to>`, counting only events inside [fromDate, toDate].
const LATE_MS = 7 * 60_000 // the 'late' variant's grid: this long after the multiples of the width

export function timeBuckets (opts: SimulatorOptions, res: http.ServerResponse, url: URL, call: SimCall, headers: Record<string, string>, pool: Event[]) {
  const from = Number(url.searchParams.get('fromDate')) * 1000
  const to = Number(url.searchParams.get('toDate')) * 1000
  const n = Number(url.searchParams.get('bucketCount'))
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to || !Number.isInteger(n) || n < 1 || n > 1000) {
    call.status = 400
    return res.writeHead(400, headers).end(JSON.stringify({ message: 'fromDate < toDate (epoch seconds) and bucketCount 1..1000 are required' }))
  }
  const width = (to - from) / n
  const first = opts.bucketAlignment === 'from'
    ? from
    : opts.bucketAlignment === 'late' ? Math.ceil((from - LATE_MS) / width) * width + LATE_MS : Math.floor(from / width) * width
  const times = pool.map((e) => ordinal('event.datetime', e.dateTime)).filter((t) => t >= from && t <= to)
  const spell = (ms: number) => {
    const iso = new Date(ms).toISOString()
    return opts.bucketKeys === 'seconds' ? iso.replace('.000Z', 'Z') : opts.bucketKeys === 'offset' ? iso.replace('Z', '+0000') : iso
  }
  const answer: Record<string, number> = {}
  for (let i = 0; i < n; i++) {
    const start = first + i * width
    const end = start + width
    answer[`${spell(start)}_${spell(end)}`] = times.filter((t) => t >= start && t < end).length
  }
  call.status = 200
  res.writeHead(200, headers).end(JSON.stringify(answer))
}
