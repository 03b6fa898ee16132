import t from 'tap'
import { request } from 'undici'
import { bearer, build, DEMO, hsToken, withSimulator, type Simulator } from '../helper.js'
import type { SimulatorOptions } from '../../simulator/index.js'
import { freePort } from '../../scripts/free-port.js'
import { accountKey } from '../../plugins/app/qualys/account.js'

// The Qualys budget spent by priority (SPEC §12), against the simulator playing a subscription:
// one budget for every user and tool, X-RateLimit-* headers, 429 with X-RateLimit-ToWait-Sec.
// Every expected number below is counted by hand from the limit, the calls each request makes
// and what the "other consumer" (sim.spend) takes.

const MUTEX = { type: 'mutex', value: 'MSFTHISTORY!' }
const IP = { type: 'ip', value: '23.38.112.137' }
const HELD = 'Qualys API budget low: held back for investigations (QUALYS_BUDGET_RESERVE). Please try again later.'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const apiCalls = (sim: Simulator) => sim.calls.filter((c) => c.path !== 'auth' && c.path !== 'other')

async function relay (t: any, simOptions: SimulatorOptions, env: Record<string, string> = {}) {
  const sim = await withSimulator(t, simOptions)
  const built = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: 'off', ...env })
  const post = async (url: string, payload?: unknown) => {
    const res = await built.app.inject({ method: 'POST', url, headers: bearer(hsToken(DEMO)), payload: payload === undefined ? undefined : JSON.stringify(payload) })
    t.equal(res.statusCode, 200, url)
    return res.json()
  }
  return {
    sim,
    ...built,
    post,
    observe: (list: unknown[]) => post('/observe/observables', list),
    tile: (tile: string, period = 'last_24_hours') => post('/tiles/tile-data', { tile_id: tile, period }),
    health: () => post('/health')
  }
}

t.test('the budget is unknown until Qualys sends its headers, and headers missing, empty or garbage stay unknown: nothing is held back', async (t) => {
  for (const headers of ['documented', 'missing', 'empty', 'garbage'] as const) {
    // 10 calls per window, 5 kept: the other consumer takes 5, an investigation 2 (1 observable,
    // Active and Historical): 3 left, below the reserve of 5.
    const r = await relay(t, { rateLimit: { limit: 10, windowSec: 60, headers } }, { QUALYS_BUDGET_RESERVE: '5' })
    t.equal(r.sim.spend(5), 5)
    t.notOk((await r.observe([MUTEX])).errors, `${headers}: an investigation spends whatever is left`)
    const logins = () => r.sim.calls.filter((c) => c.path === 'auth').length
    const loginsBefore = logins()
    const health = await r.health()
    t.equal(logins(), loginsBefore + 1, `${headers}: health made a new login, whatever the budget`)
    if (headers === 'documented') {
      t.same(health.data, { status: 'ok', budget: { remaining: 3, limit: 10, window_seconds: 60, seen_at: health.data.budget.seen_at }, note: 'Qualys was logged in to but not searched: the API budget is at its reserve for investigations (QUALYS_BUDGET_RESERVE).' },
        'documented: health logs in, does not search, reports 3 of 10')
      t.equal(apiCalls(r.sim).length, 2, 'documented: no call but the investigation\'s')
    } else {
      t.same(health, { data: { status: 'ok' } }, `${headers}: unknown budget, health searched, no error`)
      t.equal(apiCalls(r.sim).length, 3, `${headers}: the health search was sent`)
    }
  }
})

t.test('a reserve of 0 is first come, first served (the behaviour before priorities)', async (t) => {
  const r = await relay(t, { rateLimit: { limit: 10, windowSec: 60 } }, { QUALYS_BUDGET_RESERVE: '0' })
  r.sim.spend(7)
  await r.observe([MUTEX]) // 1 left
  const health = await r.health()
  t.same([health.data.status, health.data.note, health.data.budget.remaining], ['ok', undefined, 0], 'searched with the last call left: none left after it')
  t.equal(apiCalls(r.sim).length, 3)
})

t.test('tiles: a tile never computed is held back with an error that names the reason; one computed before is answered from its last data', async (t) => {
  // 20 calls, reserve 50 % (10). The summary costs 3 (2 counts and the buckets): 17 left; the
  // other consumer takes 8 (9 left); an investigation 2 (7 left, which the headers tell).
  const r = await relay(t, { rateLimit: { limit: 20, windowSec: 60 } }, { QUALYS_BUDGET_RESERVE: '50%', TILE_CACHE_TTL_S: '1' })
  const first = await r.tile('qualys-ioc-event-summary')
  t.notOk(first.errors)
  t.equal(apiCalls(r.sim).length, 3)
  r.sim.spend(8)
  t.notOk((await r.observe([MUTEX])).errors, 'investigations are never held back')
  t.same(await r.tile('qualys-ioc-events-by-type'), { errors: [{ type: 'fatal', code: 'too many requests', message: HELD }] }, 'never computed: the reason')
  await sleep(1100) // the summary's data is no longer fresh
  const stale = await r.tile('qualys-ioc-event-summary')
  t.same(stale.data, first.data, 'answered at once from the last data, which says when it was computed')
  await sleep(200)
  t.equal(apiCalls(r.sim).length, 5, 'no refresh below the reserve: the summary\'s 3, the investigation\'s 2')
})

t.test('a tile never computed is held back by the reserve alone, rounded up: a limit of 7 keeps 2 (20 %)', async (t) => {
  // No other consumer: only the reserve can hold anything back. Health's search 1 (6 left), an
  // investigation 2 (4 left); the summary would cost 3 and leave 1, under ceil(7 × 20 %) = 2.
  // Without the reserve, or rounded down (1), it would be computed.
  const r = await relay(t, { rateLimit: { limit: 7, windowSec: 60 } })
  t.notOk((await r.health()).errors)
  t.notOk((await r.observe([MUTEX])).errors)
  t.equal(apiCalls(r.sim).length, 3, 'health\'s search and the investigation\'s 2')
  t.same(await r.tile('qualys-ioc-event-summary'), { errors: [{ type: 'fatal', code: 'too many requests', message: HELD }] }, 'held back: 1 would be left, 2 are kept')
  t.equal(apiCalls(r.sim).length, 3, 'no call for it')
  t.notOk((await r.observe([IP])).errors, 'an investigation still spends what is kept')
  t.equal(apiCalls(r.sim).length, 5)
})

t.test('logins are free: neither health\'s fresh login nor a lookup\'s changes the budget view', async (t) => {
  // The other consumer spends 4 first, so that its share shows in the view (it would read one
  // lower per login counted as the relay's own). Tokens live 301 s: the relay keeps one for 1 s.
  const r = await relay(t, { rateLimit: { limit: 40, windowSec: 60 }, tokenTtlS: 301 }, { QUALYS_BUDGET_RESERVE: '95%', HEALTH_CACHE_S: '1' })
  r.sim.spend(4)
  t.notOk((await r.observe([MUTEX])).errors)
  const key = accountKey(r.sim.url, DEMO)
  const view = async () => ({ ...await r.app.state.budget.get(key) }) // a copy: the store changes its own in place
  const before = await view()
  t.match(before, { limit: 40, counted: 6, inflight: 0 }, 'the other consumer\'s 4 and the investigation\'s 2')
  const logins = r.sim.counters.logins

  const health = await r.health() // the budget at its reserve: a fresh login, no search
  t.equal(health.data.note !== undefined && health.errors === undefined, true, 'ok, not searched')
  t.equal(r.sim.counters.logins, logins + 1, 'a fresh login')
  t.same(await view(), before, 'the view unchanged by health\'s login')

  await sleep(1100) // the relay's token is past its keeping
  t.notOk((await r.observe([IP])).errors)
  t.equal(r.sim.counters.logins, logins + 2, 'the lookup logged in first')
  const after = await view() as Required<typeof before>
  const was = before as Required<typeof before>
  t.equal(after.counted - was.counted, 2, 'Qualys counted the investigation\'s 2 calls')
  t.equal(after.own - was.own, 2, 'the relay counted 2 of its own, not 3: the login is not one')
  t.equal(after.counted - after.base - after.own, was.counted - was.base - was.own, 'the other consumer\'s share unchanged')
})

t.test('stale-while-revalidate: answered at once from the last data, refreshed once however many ask', async (t) => {
  const r = await relay(t, { latencyMs: 600 }, { TILE_CACHE_TTL_S: '1' })
  const first = await r.tile('qualys-ioc-event-summary')
  await sleep(1100)
  const before = apiCalls(r.sim).length
  const started = Date.now()
  const answers = await Promise.all(Array.from({ length: 5 }, () => r.tile('qualys-ioc-event-summary')))
  const elapsed = Date.now() - started
  t.ok(answers.every((a) => a.data.valid_time.start_time === first.data.valid_time.start_time), 'all five: the last data')
  t.ok(elapsed < 550, `answered without waiting for Qualys (600 ms a call): ${elapsed} ms`)
  for (let i = 0; apiCalls(r.sim).length < before + 3 && i < 100; i++) await sleep(50)
  await sleep(1400) // the refresh's calls come back (two rounds of 600 ms at most)
  t.equal(apiCalls(r.sim).length - before, 3, 'one refresh: the summary\'s 3 calls, once')
  const refreshed = await r.tile('qualys-ioc-event-summary')
  t.ok(Date.parse(refreshed.data.valid_time.start_time) > Date.parse(first.data.valid_time.start_time), 'then the refreshed data')
})

t.test('waiting for a slot, investigations go before tiles', async (t) => {
  const r = await relay(t, { latencyMs: 150 }, { QUALYS_CONCURRENCY: '1', QUALYS_BATCH: 'mixed' })
  await r.health() // the login: only API calls follow
  r.sim.reset()
  const tile = r.tile('qualys-ioc-events-by-type') // five counts, one at a time
  while (r.sim.counters.inFlight === 0) await sleep(5)
  const investigation = r.observe([MUTEX, IP]) // a batch per state, asked at once
  await Promise.all([tile, investigation])
  t.same(r.sim.calls.map((c) => c.path), ['count', 'events', 'events', 'count', 'count', 'count', 'count'],
    'the count under way, then both investigation calls, then the tile\'s other counts')
})

t.test('a 429 whose wait ends after the deadline: answered at once, saying until when; what was found is kept', async (t) => {
  // One call at a time: the mutex's Active, the IP's Active, the mutex's Historical, then the IP's
  // Historical, which Qualys refuses for an hour.
  const r = await relay(t, {}, { QUALYS_CONCURRENCY: '1' })
  await r.observe([{ type: 'domain', value: 'warm.example' }]) // log in
  r.sim.rule = (call) => call.filter?.includes('23.38.112.137') === true && call.state === undefined
    ? { status: 429, headers: { 'x-ratelimit-towait-sec': '3600' } }
    : undefined
  const started = Date.now()
  const body = await r.observe([MUTEX, IP])
  t.ok(Date.now() - started < 3000, `not after waiting out the 25 s deadline (${Date.now() - started} ms)`)
  const until = /^Qualys API budget spent until (\S+Z) \(429\)\. Please try again then\.$/.exec(body.errors?.[0]?.message ?? '')?.[1]
  t.ok(until !== undefined && Math.abs(Date.parse(until) - (started + 3600_000)) < 5000, `until ${until}: an hour from now`)
  t.same(body.errors.map((e: { code: string }) => e.code), ['too many requests'])
  t.equal(body.data.sightings.count, 3, 'what was found is kept: the mutex\'s two sightings, the IP\'s Active one')
  const next = await r.observe([{ type: 'domain', value: 'other.example' }])
  t.same(next.errors?.[0]?.message, body.errors[0].message, 'another request meanwhile: at once, the same time')
})

t.test('a window rolling over mid-request: the call refused at its end is retried in the next window; the view starts again', async (t) => {
  // A 2-second window of 4 calls; the other consumer leaves 1. Two observables one by one take 4
  // calls: the second is refused (429, wait ≤ 2 s), retried once the window rolled over.
  const r = await relay(t, { rateLimit: { limit: 4, windowSec: 2 } }, { QUALYS_CONCURRENCY: '1', QUALYS_BUDGET_RESERVE: '2' })
  await r.health() // a first search: the view exists (3 left)
  await sleep(2000 - r.sim.clock() % 2000 + 50) // the start of a window
  r.sim.spend(3)
  const body = await r.observe([MUTEX])
  t.notOk(body.errors, 'no error: the wait ended within the deadline')
  t.equal(body.data.sightings.count, 2)
  t.same(apiCalls(r.sim).slice(1).map((c) => c.status), [200, 429, 200], 'the Historical call refused, then answered in the next window')
  const tile = await r.tile('qualys-ioc-latest-malicious') // the new window: 4 − 1 = 3 left, above the reserve of 2
  t.notOk(tile.errors, 'a tile may spend again in the new window')
})

t.test('health: at most one real call per credential per HEALTH_CACHE_S, across requests; an error is kept as long', async (t) => {
  const r = await relay(t, {})
  t.same(await r.health(), { data: { status: 'ok' } })
  t.same(await r.health(), { data: { status: 'ok' } })
  t.equal(r.sim.counters.logins, 1, 'one login')
  t.same(apiCalls(r.sim).map((c) => [c.pageSize, c.state, c.filter]), [[1, 'true', undefined]], 'one search, never from the lookup cache')
  const other = await relay(t, {}, { HEALTH_CACHE_S: '0' })
  other.sim.inject({ status: 503 }, 4)
  const unavailable = { errors: [{ type: 'fatal', code: 'service unavailable', message: 'Service temporarily unavailable. Please try again later.' }] }
  t.same(await other.health(), unavailable, 'HEALTH_CACHE_S=0: every health check searches')
  t.same(await other.health(), { data: { status: 'ok' } })
  t.equal(other.sim.counters.logins, 2)
  const cached = await relay(t, {}, { HEALTH_CACHE_S: '60' })
  cached.sim.inject({ status: 503 }, 4)
  t.same(await cached.health(), unavailable)
  t.same(await cached.health(), unavailable, 'the error is answered for HEALTH_CACHE_S as well')
  t.equal(cached.sim.counters.logins, 1)
})

t.test('metrics: the budget as the relay sees it, calls held back, tile answers served stale', async (t) => {
  const port = await freePort()
  const r = await relay(t, { rateLimit: { limit: 10, windowSec: 60 } }, { METRICS_PORT: String(port), QUALYS_BUDGET_RESERVE: '5', TILE_CACHE_TTL_S: '1' })
  await r.tile('qualys-ioc-latest-malicious') // 1 call: 9 left
  r.sim.spend(3)
  await r.observe([MUTEX]) // 2 calls: 4 left
  t.match(await r.tile('qualys-ioc-events-by-type'), { errors: [{ message: HELD }] })
  await sleep(1100)
  await r.tile('qualys-ioc-latest-malicious') // stale: answered, not refreshed (held)
  await sleep(100)
  const text = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text()
  t.match(text, /^relay_qualys_budget_remaining\{credential="[0-9a-f]{10}"\} 4$/m)
  t.match(text, /^relay_qualys_held_back_total\{purpose="tile"\} 6$/m, 'the by-type tile\'s 5 calls, the latest tile\'s refresh (1)')
  t.match(text, /^relay_tile_answers_total\{freshness="stale"\} 1$/m)
  t.match(text, /^relay_tile_answers_total\{freshness="computed"\} 1$/m)
})
