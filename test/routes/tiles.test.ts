import t from 'tap'
import { bearer, build, DEMO, hsToken, tileErrors, withSimulator } from '../helper.js'
import type { SimulatorOptions } from '../../simulator/index.js'

// Historical events at known distances from now; every count below is worked out by hand.
const HOUR = 3_600_000
const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR).toISOString().replace('Z', '+0000')
const ev = (id: string, type: string, hoursAgo: number, score: string, extra: Record<string, unknown> = {}) =>
  ({ id, type, dateTime: at(hoursAgo), score, asset: { netBiosName: `HOST-${id}` }, ...extra })
const HISTORICAL = [
  ev('F1', 'FILE', 1, '9', { file: { fileName: 'evil|name.exe' } }), // 24 h, 7 d, 30 d; malicious
  ev('P1', 'PROCESS', 5, '5', { process: { processName: 'powershell.exe' } }), // 24 h; suspicious
  ev('N1', 'NETWORK', 49, '8', { network: { remoteIP: '203.0.113.9', remoteDns: 'c2.example' } }), // 7 d; malicious
  ev('R1', 'REGISTRY', 73, '3'), // 7 d; suspicious
  ev('M1', 'MUTEX', 240, '0', { handle: { name: 'Global\\M' } }), // 30 d only; neither
  ev('F2', 'FILE', 960, '10') // 40 days ago: in no period
]
const ACTIVE = [ev('A1', 'FILE', 1, '9')] // tiles count the historical series only

// Bars sit on multiples of their width since the epoch, the last one holding now (the test's
// own arithmetic): an event `h` hours ago is on bar n − 1 − (⌊now/W⌋ − ⌊(now − h)/W⌋).
function bars (n: number, width: number, hoursAgo: number[]) {
  const now = Date.now()
  const out: number[] = Array(n).fill(0)
  for (const h of hoursAgo) {
    const bar = n - 1 - (Math.floor(now / width) - Math.floor((now - h * HOUR) / width))
    if (bar >= 0) out[bar]++
  }
  return out
}

async function setup (t: any, env: Record<string, string> = {}, simOptions: SimulatorOptions = {}) {
  const sim = await withSimulator(t, { fixtures: { active: ACTIVE, historical: HISTORICAL }, ...simOptions })
  const { app } = await build(t, { API_URL: sim.url, PLATFORM_URL: 'https://qualysguard.qg2.apps.qualys.com', ...env })
  const post = async (url: string, payload?: unknown) => {
    const res = await app.inject({ method: 'POST', url, headers: bearer(hsToken(DEMO)), payload: payload === undefined ? undefined : JSON.stringify(payload) })
    t.equal(res.statusCode, 200)
    return res.json()
  }
  return { sim, post }
}

t.test('descriptors: /tiles lists four, /tiles/tile gives one; unknown ids are invalid arguments', async (t) => {
  const { post } = await setup(t)
  const list = await post('/tiles')
  t.same(list.data.map((d: { id: string, type: string }) => `${d.id} ${d.type}`), [
    'qualys-ioc-event-summary metric_group', 'qualys-ioc-events-by-type donut_graph',
    'qualys-ioc-events-over-time vertical_bar_chart', 'qualys-ioc-latest-malicious markdown'
  ])
  for (const d of list.data) {
    t.same(tileErrors('Tile', d), [], `${d.id} matches its schema`)
    t.same(d.periods, ['last_24_hours', 'last_7_days', 'last_30_days'])
    t.equal(d.default_period, 'last_7_days')
  }
  t.same((await post('/tiles/tile', { tile_id: 'qualys-ioc-events-by-type' })).data, list.data[1])
  const ids = 'qualys-ioc-event-summary, qualys-ioc-events-by-type, qualys-ioc-events-over-time, qualys-ioc-latest-malicious'
  t.same(await post('/tiles/tile', { tile_id: 'nope' }), {
    errors: [{ type: 'fatal', code: 'invalid argument', message: `Invalid JSON payload received. {"tile_id": ["Must be one of: ${ids}."]}` }]
  })
  t.same(await post('/tiles/tile-data', { tile_id: 'qualys-ioc-event-summary', period: 'last_90_days' }), {
    errors: [{ type: 'fatal', code: 'invalid argument', message: 'Invalid JSON payload received. {"period": ["Must be one of: last_24_hours, last_7_days, last_30_days."]}' }]
  })
  t.same(await post('/tiles/tile', {}), {
    errors: [{ type: 'fatal', code: 'invalid argument', message: 'Invalid JSON payload received. {"tile_id": ["Missing data for required field."]}' }]
  })
})

t.test('each tile’s data, by period, against hand-computed counts', async (t) => {
  const { post } = await setup(t)
  const data = async (tile: string, period?: string) => {
    const body = await post('/tiles/tile-data', { tile_id: tile, ...(period === undefined ? {} : { period }) })
    t.notOk(body.errors, `${tile} ${period}: no error`)
    return body.data
  }
  const summary = async (period?: string) => (await data('qualys-ioc-event-summary', period)).data.map((d: { label: string, value: number }) => `${d.label} ${d.value}`)
  t.same(await summary('last_24_hours'), ['Events 2', 'Malicious 1', 'Suspicious 1'])
  t.same(await summary(), ['Events 4', 'Malicious 2', 'Suspicious 2'], 'last_7_days by default')
  t.same(await summary('last_30_days'), ['Events 5', 'Malicious 2', 'Suspicious 2'])

  const seven = await data('qualys-ioc-event-summary', 'last_7_days')
  t.same(tileErrors('MetricGroupData', seven), [])
  t.match(seven, { cache_scope: 'org', hide_legend: false })
  // Its total is the over-time tile's daily buckets: the window starts at the oldest bar's midnight.
  const DAY = 24 * HOUR
  t.equal(Date.parse(seven.observed_time.start_time), (Math.floor(Date.parse(seven.observed_time.end_time) / DAY) + 1) * DAY - 7 * DAY, 'observed_time: the buckets\' window')
  t.equal(Date.parse(seven.valid_time.end_time) - Date.parse(seven.valid_time.start_time), 3600_000, 'fresh for an hour (7 days: TILE_FRESH_7D_S)')
  t.match(seven.data[1].link_uri, /^https:\/\/qualysguard\.qg2\.apps\.qualys\.com\/ioc\/#\/hunting\?search=indicator\.score%3A%5B8\.\.10%5D%20and%20event\.datetime/)

  const donut = await data('qualys-ioc-events-by-type', 'last_7_days')
  t.same(tileErrors('DonutData', donut), [])
  t.same(donut.labels[0], ['File', 'Process', 'Network', 'Mutex', 'Registry'])
  t.same(donut.data.map((d: { value: number }) => d.value), [1, 1, 1, 0, 1])
  t.same((await data('qualys-ioc-events-by-type', 'last_30_days')).data.map((d: { value: number }) => d.value), [1, 1, 1, 1, 1])

  const day = await data('qualys-ioc-events-over-time', 'last_24_hours')
  t.same(tileErrors('BarChartData', day), [])
  t.same(day.data.map((b: { value: number }) => b.value), bars(6, 4 * HOUR, [1, 5]), 'six 4-hour bars, oldest first: 5 h ago and 1 h ago each on its bar')
  t.ok(day.data.every((b: { key: number }) => b.key % (4 * HOUR) === 0), 'on multiples of 4 hours since the epoch')
  t.ok(day.data.every((b: { key: number }, i: number) => i === 0 || b.key - day.data[i - 1].key === 4 * HOUR), '4 hours apart')
  t.ok(day.data[5].key <= Date.now() && Date.now() < day.data[5].key + 4 * HOUR, 'the last bar holds now')
  t.same((await data('qualys-ioc-events-over-time', 'last_7_days')).data.map((b: { value: number }) => b.value), bars(7, 24 * HOUR, [1, 5, 49, 73]),
    'daily: 1 h, 5 h, 49 h and 73 h ago, each on its day; empty days kept')
  const month = await data('qualys-ioc-events-over-time', 'last_30_days')
  t.equal(month.data.length, 30)
  t.same(month.data.map((b: { value: number }) => b.value), bars(30, 24 * HOUR, [1, 5, 49, 73, 240]), 'the 40-day-old event on no bar')

  const latest = await data('qualys-ioc-latest-malicious', 'last_7_days')
  t.same(tileErrors('MarkdownData', latest), [])
  t.same(latest.data.slice(0, 4), [
    '| Time (UTC) | Host | Type | Name | Score |',
    '| --- | --- | --- | --- | --- |',
    `| ${HISTORICAL[0]?.dateTime.slice(0, 19).replace('T', ' ')} | HOST-F1 | FILE | evil\\|name.exe | 9 |`,
    `| ${HISTORICAL[2]?.dateTime.slice(0, 19).replace('T', ' ')} | HOST-N1 | NETWORK | c2.example | 8 |`
  ], 'newest first; a pipe in a name is escaped')
  t.match(latest.data.at(-1), /^\[Hunt for them in Qualys\]\(https:\/\/qualysguard\.qg2\.apps\.qualys\.com\/ioc\/#\/hunting\?search=indicator\.score%3E%3D8/)
  t.same((await data('qualys-ioc-latest-malicious', 'last_24_hours')).data.length, 3 + 2, 'one row in 24 hours, then the link')
})

// Where the docs are silent, tenants may cut buckets from fromDate, or spell their keys without
// milliseconds or with a numeric offset: each count still lands on the bar that holds it.
// A tenant whose buckets start 7 minutes after each bar (the simulator's 'late' grid): bucket i
// starts at bar i's start + 7 min and counts the events up to the next one's, so an event lands
// on the bar of the bucket it was counted in: the bar that holds (its time − 7 min).
const LATE = 7 * 60_000
const lateBars = (n: number, width: number, hoursAgo: number[]) => {
  const now = Date.now()
  const out: number[] = Array(n).fill(0)
  for (const h of hoursAgo) {
    const bar = n - 1 - (Math.floor(now / width) - Math.floor((now - h * HOUR - LATE) / width))
    if (bar >= 0) out[bar]++
  }
  return out
}

t.test('the over-time tile under every bucket variant a tenant may play', async (t) => {
  for (const bucketAlignment of ['epoch', 'from', 'late'] as const) {
    const expect = bucketAlignment === 'late' ? lateBars : bars
    for (const bucketKeys of ['documented', 'seconds', 'offset'] as const) {
      const { post } = await setup(t, {}, { bucketAlignment, bucketKeys })
      const values = async (period: string) =>
        (await post('/tiles/tile-data', { tile_id: 'qualys-ioc-events-over-time', period })).data.data.map((b: { value: number }) => b.value)
      t.same(await values('last_24_hours'), expect(6, 4 * HOUR, [1, 5]), `${bucketAlignment}, ${bucketKeys} keys: 24 hours`)
      t.same(await values('last_7_days'), expect(7, 24 * HOUR, [1, 5, 49, 73]), `${bucketAlignment}, ${bucketKeys} keys: 7 days`)
    }
  }
})

t.test('scores on the band edges: 2 and 7 are suspicious, 8 malicious, 1 neither', async (t) => {
  const sim = await withSimulator(t, { fixtures: { active: [], historical: ['1', '2', '7', '8'].map((score, i) => ev(`E${i}`, 'FILE', 2, score)) } })
  const { app } = await build(t, { API_URL: sim.url })
  const res = await app.inject({ method: 'POST', url: '/tiles/tile-data', headers: bearer(hsToken(DEMO)), payload: { tile_id: 'qualys-ioc-event-summary', period: 'last_24_hours' } })
  t.same(res.json().data.data.map((d: { label: string, value: number }) => `${d.label} ${d.value}`), ['Events 4', 'Malicious 1', 'Suspicious 2'])
})

t.test('a dashboard costs nine calls per period and none again while fresh', async (t) => {
  const { sim, post } = await setup(t)
  const tiles = ['qualys-ioc-event-summary', 'qualys-ioc-events-by-type', 'qualys-ioc-events-over-time', 'qualys-ioc-latest-malicious']
  await post('/health') // log in
  sim.reset()
  for (const tile of tiles) await post('/tiles/tile-data', { tile_id: tile, period: 'last_24_hours' })
  t.same(sim.calls.map((c) => c.path).sort(), ['buckets', ...Array(7).fill('count'), 'events'], '2 + 5 counts, 1 time-bucket call (for the over-time tile and the summary\'s total), 1 events call')
  t.ok(sim.calls.filter((c) => c.path !== 'buckets').every((c) => c.state === 'false'), 'the historical series (state=false)')
  for (const tile of tiles) await post('/tiles/tile-data', { tile_id: tile, period: 'last_24_hours' })
  t.equal(sim.calls.length, 9, 'a refresh while the data is fresh (24 hours: 15 minutes) makes no call')
  await post('/tiles/tile-data', { tile_id: tiles[0], period: 'last_7_days' })
  t.equal(sim.calls.length, 12, 'another period is its own entry')
})

t.test('a failing count call: the tile answers the error in the envelope, never a 500', async (t) => {
  const { sim, post } = await setup(t, { QUALYS_RETRIES: '0' })
  await post('/health')
  sim.inject({ status: 500, body: 'count service down' })
  const calls = sim.calls.length
  t.same(await post('/tiles/tile-data', { tile_id: 'qualys-ioc-events-by-type' }), {
    errors: [{ type: 'fatal', code: 'unknown', message: 'Unexpected response from Qualys IOC: count service down' }]
  })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(sim.calls.length - calls, 2, 'the counts not yet sent when one failed are never sent (2 in flight)')
  sim.inject({ status: 200, body: '{"count": "many"}' })
  t.match((await post('/tiles/tile-data', { tile_id: 'qualys-ioc-event-summary', period: 'last_30_days' })).errors, [{ code: 'unknown' }], 'a count that is no count')
  const ok = await post('/tiles/tile-data', { tile_id: 'qualys-ioc-events-by-type' })
  t.same(ok.data.data.map((d: { value: number }) => d.value), [1, 1, 1, 0, 1], 'an error is not cached')
})
