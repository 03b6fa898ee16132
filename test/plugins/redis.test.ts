import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { request } from 'undici'
import { sealer } from '../../plugins/app/state/seal.js'
import { bearer, build, DEMO, EVE, hsToken, registerSecret, withSimulator } from '../helper.js'
import { freePort } from '../../scripts/free-port.js'
import { PROGRAMS, withPrograms } from '../system.js'
import { startRedis } from '../redis.js'

const MUTEX = [{ type: 'mutex', value: 'MSFTHISTORY!' }]
const ready = async (app: { redis: Redis | null }) => {
  for (let i = 0; app.redis?.status !== 'ready'; i++) {
    if (i > 200) throw new Error('redis never ready')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

// Two relays on one real Redis and one simulator; `observe` posts as demo to one of them.
async function twoReplicas (t: any, redisServer: string, simOptions: Parameters<typeof withSimulator>[1], env: { a?: Record<string, string>, b?: Record<string, string>, both?: Record<string, string> } = {}) {
  const redis = await startRedis(t, redisServer)
  const sim = await withSimulator(t, simOptions)
  const shared = { API_URL: sim.url, REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '500', ...env.both }
  const a = (await build(t, { ...shared, ...env.a })).app
  const b = (await build(t, { ...shared, ...env.b })).app
  await Promise.all([ready(a), ready(b)])
  const observe = async (app: typeof a, payload: unknown) =>
    (await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: JSON.stringify(payload) })).json()
  return { sim, a, b, observe }
}

withPrograms(t, [PROGRAMS.redis], 'replicas share lookups and tile data through Redis, encrypted; Redis down never fails a request', async (t, paths) => {
  const redis = await startRedis(t, paths['redis-server'] as string)
  const sim = await withSimulator(t, { accounts: { demo: DEMO.pass, eve: EVE.pass } })
  registerSecret(EVE.pass)
  const metricsPort = await freePort()
  const env = { API_URL: sim.url, REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '500' }
  const a = (await build(t, { ...env, METRICS_PORT: String(metricsPort) })).app
  const { app: b, logs: bLogs } = await build(t, env)
  await Promise.all([ready(a), ready(b)])
  const post = async (app: typeof a, url: string, payload: unknown, who = DEMO) =>
    (await app.inject({ method: 'POST', url, headers: bearer(hsToken(who)), payload: JSON.stringify(payload) })).json()
  const apiCalls = () => sim.calls.filter((c) => c.path !== 'auth').length

  const first = await post(a, '/observe/observables', MUTEX)
  t.equal(first.data.sightings.count, 2)
  const afterA = apiCalls()
  t.equal(afterA, 2, 'replica A: Active and Historical')
  const second = await post(b, '/observe/observables', MUTEX)
  t.same(second.data.sightings.docs.map((d: any) => d.external_ids), first.data.sightings.docs.map((d: any) => d.external_ids))
  t.equal(apiCalls(), afterA, 'replica B: served from Redis, no Qualys call')
  await post(b, '/observe/observables', MUTEX, EVE)
  t.equal(apiCalls(), afterA + 2, 'another credential never reads them')

  await post(a, '/tiles/tile-data', { tile_id: 'qualys-ioc-events-by-type' })
  const afterTile = apiCalls()
  t.equal(afterTile, afterA + 2 + 5)
  const tile = await post(b, '/tiles/tile-data', { tile_id: 'qualys-ioc-events-by-type' })
  t.equal(tile.data.data.length, 5)
  t.equal(apiCalls(), afterTile, 'a tile another replica computed: no Qualys call')

  // Secrets at rest: no key or value holds a user name, password, token or event field in clear;
  // an entry opens only with the key of the credential it belongs to.
  const client = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => client.disconnect())
  const all = await client.keys('*')
  const names = all.filter((n) => n.startsWith('qioc:store:'))
  const budgets = all.filter((n) => n.startsWith('qioc:budget:'))
  t.equal(names.length + budgets.length, all.length, `${all.length} keys, all under REDIS_PREFIX: sealed entries and budget views`)
  t.ok(names.length >= 4, `${names.length} sealed entries`)
  // The budget views (one per credential, under a hashed name) hold numbers only.
  for (const name of budgets) t.ok(Object.values(await client.hgetall(name)).every((v) => /^-?\d*$/.test(v)), `${name.slice(0, 20)}…: numbers only`)
  const dump = (await Promise.all(names.map(async (n) => `${n} ${await client.get(n)}`))).join('\n')
  const tokens = sim.calls.map((c) => c.token).filter((x): x is string => x !== undefined)
  // A short name ("eve") turns up by chance in kilobytes of base64 ciphertext: every secret is
  // looked for as a JSON string (quotes never occur in base64) and in the key names, and the
  // longer ones anywhere at all.
  const keys = names.join('\n')
  for (const secret of ['demo', DEMO.pass, 'eve', EVE.pass, ...tokens, 'MSFTHISTORY!', 'WIN7-HOST-01', 'explorer.exe', 'M_5b49017b']) {
    const clear = dump.includes(JSON.stringify(secret)) || keys.includes(secret) || (secret.length >= 8 && dump.includes(secret))
    t.notOk(clear, `nothing in Redis contains ${secret.slice(0, 12)}`)
  }
  // The credential hash is sha256 of API URL, user and password (SPEC §10: keys from the hash).
  const seal = sealer('qioc:')
  const credential = createHash('sha256').update(`${sim.url}\u0000${DEMO.user}\u0000${DEMO.pass}`).digest('hex')
  const opened = await Promise.all(names.map(async (n) => seal.open(credential, n.slice('qioc:'.length), await client.get(n) as string)))
  const token = opened.find((v: any) => typeof v?.token === 'string') as { token: string, expiresAt: number } | undefined
  t.ok(token !== undefined && tokens.includes(token.token), 'the Qualys token is in Redis, sealed: it opens with its credential')
  t.equal(opened.filter((v) => v !== undefined).length, opened.length - 3, 'every entry but eve\'s token and lookups opens with demo\'s credential')
  const other = createHash('sha256').update(`${sim.url}\u0000${EVE.user}\u0000wrong-password`).digest('hex')
  t.same(await Promise.all(names.map(async (n) => seal.open(other, n.slice('qioc:'.length), await client.get(n) as string))),
    names.map(() => undefined), 'another credential decrypts nothing')

  // Redis killed: requests go on, from the process's own state; back: sharing resumes.
  redis.kill()
  for (let i = 0; a.redis?.status === 'ready' && i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 25))
  const down = await post(a, '/observe/observables', [{ type: 'ip', value: '23.38.112.137' }])
  t.notOk(down.errors, 'Redis down: no error')
  t.equal(down.data.sightings.count, 1, 'and the right answer')
  const metrics = await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text()
  t.match(metrics, /^relay_redis_up 0$/m)
  t.match(metrics, /^relay_redis_fallbacks_total\{kind="(get|set)"\} [1-9]/m, metrics.split('\n').filter((l) => l.startsWith('relay_redis')).join(' | '))
  t.ok(bLogs.some((l) => l.includes('redis: down, using in-process state')), 'one warning when Redis goes away')
  await redis.start()
  await Promise.all([ready(a), ready(b)])
  const domain = [{ type: 'domain', value: 'tor-exit.example-relay.net' }]
  await post(a, '/observe/observables', domain)
  const afterBack = apiCalls()
  await post(b, '/observe/observables', domain)
  t.equal(apiCalls(), afterBack, 'Redis back: sharing resumes')
})

withPrograms(t, [PROGRAMS.redis], 'Redis unreachable at start-up: the relay starts, warns once, answers', async (t) => {
  const sim = await withSimulator(t)
  const closed = await freePort()
  const { app, logs } = await build(t, { API_URL: sim.url, REDIS_URL: `redis://127.0.0.1:${closed}`, REDIS_TIMEOUT_MS: '200' })
  const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: MUTEX })
  t.equal(res.json().data.sightings.count, 2)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(logs.filter((l) => l.includes('redis: unreachable at start-up')).length, 1, 'one warning')
})

t.test('a malformed REDIS_URL stops start-up with one line naming the variable', async (t) => {
  await t.rejects(build(t, { REDIS_URL: 'http://redis:6379' }), /REDIS_URL/)
})

withPrograms(t, [PROGRAMS.redis], 'a concurrency limit Qualys announced to one replica binds them all', async (t, paths) => {
  const { sim, a, b, observe: post } = await twoReplicas(t, paths['redis-server'] as string, { latencyMs: 100, concurrencyLimitHeader: 1 })

  // A learns X-Concurrency-Limit-Limit: 1; B, which never saw it, keeps to it too.
  await post(a, MUTEX)
  sim.reset()
  const lists = [[{ type: 'ip', value: '23.38.112.137' }], [{ type: 'domain', value: 'tor-exit.example-relay.net' }]]
  const both = await Promise.all([post(a, lists[0]), post(b, lists[1])])
  t.same(both.map((body) => body.errors), [undefined, undefined])
  t.equal(sim.byUser.demo?.maxInFlight, 1, `1 call in flight across both replicas (${sim.calls.length} calls)`)
})

withPrograms(t, [PROGRAMS.redis], 'a batch size one replica learnt from a refusal binds the other: it pays no refusal of its own', async (t, paths) => {
  // A front end refuses request targets over 4,096 bytes; both replicas were told 8,000 would do.
  const { sim, a, b, observe: post } = await twoReplicas(t, paths['redis-server'] as string, { targetLimit: { bytes: 4096 } },
    { both: { QUALYS_MAX_URL_BYTES: '8000', LOOKUP_CACHE_TTL_S: '0' } })
  const fifty = (seed: string) => Array.from({ length: 50 }, (_, i) => ({ type: 'sha256', value: `${seed}${i.toString(16).padStart(62, '0')}` }))
  t.notOk((await post(a, fifty('a0'))).errors, 'A: answered')
  const refusedByA = sim.calls.filter((c) => c.status === 414).length
  t.ok(refusedByA >= 1, `A paid the refusal (${refusedByA} refused)`)
  const before = sim.calls.length
  t.notOk((await post(b, fifty('b0'))).errors, 'B: answered')
  const mine = sim.calls.slice(before)
  t.equal(mine.filter((c) => c.status === 414).length, 0, 'B\'s first batches were already under the size A learnt')
  t.ok(mine.length > 0 && mine.every((c) => Buffer.byteLength(c.target) <= 4096), `B's ${mine.length} calls all fit the front end`)
})

withPrograms(t, [PROGRAMS.redis], 'one view of the Qualys budget: a tile on one replica is held back by what the other replica was told', async (t, paths) => {
  // 10 calls a window, 5 kept for investigations. The other consumer takes 5; A's investigation 2
  // (3 left, which A reads in the headers). B has never called Qualys.
  const { sim, a, b, observe: post } = await twoReplicas(t, paths['redis-server'] as string, { rateLimit: { limit: 10, windowSec: 60 } },
    { both: { QUALYS_BUDGET_RESERVE: '5', LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: 'off' } })
  sim.spend(5)
  t.notOk((await post(a, MUTEX)).errors)
  const tile = await b.inject({ method: 'POST', url: '/tiles/tile-data', headers: bearer(hsToken(DEMO)), payload: { tile_id: 'qualys-ioc-latest-malicious' } })
  t.same(tile.json().errors?.map((e: { message: string }) => e.message), ['Qualys API budget low: held back for investigations (QUALYS_BUDGET_RESERVE). Please try again later.'])
  t.equal(sim.calls.filter((c) => c.path !== 'auth').length, 2, 'B spent nothing: only A\'s two calls reached Qualys')
  const health = (await b.inject({ method: 'POST', url: '/health', headers: bearer(hsToken(DEMO)) })).json()
  t.same(health.data.budget?.remaining, 3, 'B reports the budget A was told')
})

withPrograms(t, [PROGRAMS.redis], 'replicas share the throttling wait after a 429', async (t, paths) => {
  const { sim, a, b, observe: post } = await twoReplicas(t, paths['redis-server'] as string, { latencyMs: 100 })
  await post(a, MUTEX) // both replicas have a token: only events calls follow
  sim.reset()

  // A meets a 429 asking to wait 0.5 s (its other call goes on: 2 slots); B, asked 150 ms later,
  // has a free slot but calls Qualys only once the wait is over.
  sim.inject({ status: 429, headers: { 'x-ratelimit-towait-sec': '0.5' } })
  const first = post(a, [{ type: 'file_name', value: 'bublik.exe' }])
  // B asks once A has read the 429 (not after a fixed sleep: a loaded machine may be slower).
  for (let i = 0; !sim.calls.some((c) => c.status === 429) && i < 400; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  await new Promise((resolve) => setTimeout(resolve, 200)) // well within the 500 ms wait
  const second = await post(b, [{ type: 'md5', value: '7353f60b1739074eb17c5f4dddefe239' }])
  t.same([(await first).errors, second.errors], [undefined, undefined], 'both answered once the wait was over')
  const refused = sim.calls.find((c) => c.status === 429)
  const after = sim.calls.filter((c) => c.path !== 'auth' && c.at > (refused?.at ?? 0) + 50) // not A's other call, sent with the refused one
  t.ok(refused !== undefined && after.length > 0)
  const earliest = Math.min(...after.map((c) => c.at))
  t.ok(earliest >= (refused?.at ?? 0) + 100 + 500 - 20, `no call from either replica before the wait was over (429 answered at ${(refused?.at ?? 0) + 100} ms, next call at ${earliest} ms)`)
})

withPrograms(t, [PROGRAMS.redis], 'a lock or slot taken by an attempt that timed out on the relay\'s side is given back', async (t, paths) => {
  const redis = await startRedis(t, paths['redis-server'] as string)
  const sim = await withSimulator(t)
  const metricsPort = await freePort()
  const { app } = await build(t, { API_URL: sim.url, REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '100', METRICS_PORT: String(metricsPort) })
  await ready(app)
  const admin = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => admin.disconnect())
  const post = async (payload: unknown) =>
    (await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: JSON.stringify(payload) })).json()
  await post(MUTEX) // the token

  // Redis holds every write for 400 ms: the relay's lock and slot attempts time out (100 ms) and
  // it goes on without them; Redis then runs those attempts, and the relay's releases after them.
  await admin.call('CLIENT', 'PAUSE', '400', 'WRITE')
  const body = await post([{ type: 'ip', value: '23.38.112.137' }])
  t.notOk(body.errors, 'answered from the process\'s own state')
  t.equal(body.data.sightings.count, 1)
  const metrics = await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text()
  t.match(metrics, /^relay_redis_fallbacks_total\{kind="(lock|slot)"\} [1-9]/m, 'counted as fallbacks: ' + metrics.split('\n').filter((l) => l.startsWith('relay_redis')).join(' | '))
  await new Promise((resolve) => setTimeout(resolve, 600))
  t.same(await admin.keys('qioc:mutex:*'), [], 'no lock left behind for a lease')
  t.same(await admin.keys('qioc:semaphore:*'), [], 'no slot left behind for a lease')
})

withPrograms(t, [PROGRAMS.redis], 'waiting for a slot another replica holds counts against the request\'s deadline', async (t, paths) => {
  const { sim, a, b, observe: post } = await twoReplicas(t, paths['redis-server'] as string, {},
    { both: { QUALYS_CONCURRENCY: '1' }, a: { QUALYS_DEADLINE_MS: '3000' }, b: { QUALYS_DEADLINE_MS: '400' } })
  await post(a, MUTEX) // the token, shared
  sim.reset()
  sim.rule = (call) => call.filter?.includes('slow.example') === true ? { hang: true } : undefined
  const holding = post(a, [{ type: 'domain', value: 'slow.example' }]) // holds the only slot until its deadline
  for (let i = 0; sim.counters.inFlight === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  const started = Date.now()
  const waited = await post(b, [{ type: 'ip', value: '23.38.112.137' }])
  t.same(waited.errors?.map((e: { code: string }) => e.code), ['timeout'], 'B: the timeout error')
  t.ok(Date.now() - started < 2000, `within B's deadline, not A's (${Date.now() - started} ms)`)
  t.equal(sim.calls.length, 1, 'B never called Qualys: the slot stayed A\'s')
  sim.rule = undefined
  await holding
})

withPrograms(t, [PROGRAMS.redis], 'a slow Redis and a lagging event loop are not "Redis down": the lock is waited for, nothing is fetched twice, nothing falls back', async (t, paths) => {
  const [ma, mb] = [await freePort(), await freePort()]
  const { sim, a, b, observe: post } = await twoReplicas(t, paths['redis-server'] as string, { latencyMs: 50 },
    { both: { REDIS_TIMEOUT_MS: '1000' }, a: { METRICS_PORT: String(ma) }, b: { METRICS_PORT: String(mb) } })
  const admin = new Redis(Number(new URL(a.config.REDIS_URL as string).port), '127.0.0.1')
  t.teardown(() => admin.disconnect())
  const redisLines = async () => (await Promise.all([ma, mb].map(async (port) =>
    (await (await request(`http://127.0.0.1:${port}/metrics`)).body.text()).split('\n').filter((l) => l.startsWith('relay_redis')))))
    .flat().filter((l) => !l.startsWith('#'))
  await post(a, MUTEX) // the token, shared
  sim.reset()

  // Redis answers nothing for 600 ms (well under REDIS_TIMEOUT_MS): both replicas wait for it.
  const ip = [{ type: 'ip', value: '23.38.112.137' }]
  await admin.call('CLIENT', 'PAUSE', '600', 'ALL')
  const slow = await Promise.all([post(a, ip), post(b, ip)])
  t.same(slow.map((body) => [body.errors, body.data.sightings.count]), [[undefined, 1], [undefined, 1]], 'both answered, right')
  t.equal(sim.counters.events, 2, 'one fetch per query across both (Active and Historical)')

  // The event loop blocked for 1.5 s while both wait on Redis and Qualys.
  const domain = [{ type: 'domain', value: 'tor-exit.example-relay.net' }]
  const both = Promise.all([post(a, domain), post(b, domain)])
  await new Promise((resolve) => setTimeout(resolve, 20))
  const end = Date.now() + 1500
  while (Date.now() < end);
  t.same((await both).map((body) => body.errors), [undefined, undefined], 'both answered after the lag')
  t.equal(sim.counters.events, 4, 'again one fetch per query')
  t.same(await redisLines(), ['relay_redis_up 1', 'relay_redis_up 1'], 'Redis up all along: no fallback of any kind, no lease lost')
})

// A replica whose own calls keep queueing for a credential's slots must not keep them from the
// other replicas: without the courtesy (state/lease.ts) its next caller takes the slot it just gave
// back before another replica's waiter polls, and B waited for the whole of A's stream.
withPrograms(t, [PROGRAMS.redis], 'Redis slots: a replica with a queue of its own does not starve another replica', async (t, paths) => {
  const { sim, a, b } = await twoReplicas(t, paths['redis-server'] as string, { latencyMs: 100 }, { both: { QUALYS_CONCURRENCY: '1' } })
  const observe = async (app: typeof a, value: string) => {
    const started = Date.now()
    const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: JSON.stringify([{ type: 'domain', value }]) })
    return { ms: Date.now() - started, at: Date.now(), errors: res.json().errors }
  }
  await observe(a, 'warm-a.example')
  await observe(b, 'warm-b.example') // both logged in: from here on each request is two calls
  // A: three requests at a time, each about a new domain (two calls of 100 ms, one slot), for 8 s.
  let n = 0
  const until = Date.now() + 8000
  const stream = Promise.all([0, 1, 2].map(async () => {
    while (Date.now() < until) await observe(a, `a-${n++}.example`)
  }))
  await new Promise((resolve) => setTimeout(resolve, 500))
  // B, meanwhile: three requests one after the other.
  const fromB = []
  for (let i = 0; i < 3; i++) fromB.push(await observe(b, `b-${i}.example`))
  await stream
  t.same(fromB.map((r) => r.errors), [undefined, undefined, undefined], 'B\'s requests answered without error')
  // Fair: each of B's requests waits for at most a few of A's calls (about 0.5 s here); starved,
  // the first one waited until A's stream ended (8 s). The bounds leave a loaded machine room.
  t.ok(fromB.every((r) => r.ms >= 200 && r.ms < 4000), `each of B's requests took between its two calls (200 ms) and 4 s: ${fromB.map((r) => r.ms).join(', ')} ms`)
  t.ok(fromB.every((r) => r.at < until), 'all of them answered while A\'s stream still ran')
  t.ok(n >= 10, `A went on meanwhile: ${n} requests`)
  t.ok(sim.byUser.demo !== undefined && sim.byUser.demo.maxInFlight <= 1, `calls in flight across both replicas: ${sim.byUser.demo?.maxInFlight} (QUALYS_CONCURRENCY 1)`)
})

withPrograms(t, [PROGRAMS.redis], 'a stale tile asked of two replicas at once is refreshed once: the refresh lock holds across them', async (t, paths) => {
  // Qualys at 300 ms a call: A's refresh of the summary (3 calls) still runs when B's request
  // arrives, so B can only skip it by the shared lock (the data is not fresh again yet).
  const { sim, a, b } = await twoReplicas(t, paths['redis-server'] as string, { latencyMs: 300 }, { both: { TILE_CACHE_TTL_S: '1', QUALYS_BATCH: 'off', LOOKUP_CACHE_TTL_S: '0' } })
  const tile = (app: typeof a) => app.inject({ method: 'POST', url: '/tiles/tile-data', headers: bearer(hsToken(DEMO)), payload: { tile_id: 'qualys-ioc-event-summary' } })
  const first = (await tile(a)).json()
  t.notOk(first.errors)
  const calls = () => sim.calls.filter((c) => c.path !== 'auth').length
  t.equal(calls(), 3, 'computed once: 3 calls')
  await new Promise((resolve) => setTimeout(resolve, 1100)) // stale now
  const [fromA, fromB] = await Promise.all([tile(a), tile(b)])
  t.same(fromA.json().data, first.data, 'A answers the last data at once')
  t.same(fromB.json().data, first.data, 'B too')
  for (let i = 0; i < 80 && calls() < 6; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  await new Promise((resolve) => setTimeout(resolve, 1500)) // any second refresh would have sent its calls by now
  t.equal(calls(), 6, `one refresh between them: its 3 calls (${calls() - 3} sent)`)
})

withPrograms(t, [PROGRAMS.redis], 'one shared slot: an investigation waiting on one replica goes before a tile waiting on the other', async (t, paths) => {
  // QUALYS_CONCURRENCY 1, Qualys at 200 ms a call. A holds the slot with an investigation's call;
  // meanwhile B's tile and then A's next investigation wait for it. When A gives it back, its own
  // investigation first waits out the courtesy (15 ms), so B's tile would win the race; it does
  // not ask while an investigation of any replica is listed as waiting (state/redis.ts).
  const { sim, a, b } = await twoReplicas(t, paths['redis-server'] as string, { latencyMs: 200 }, { both: { QUALYS_CONCURRENCY: '1', QUALYS_BATCH: 'off', LOOKUP_CACHE_TTL_S: '0', TILE_CACHE_TTL_S: '0' } })
  const post = (app: typeof a, url: string, payload: unknown) => app.inject({ method: 'POST', url, headers: bearer(hsToken(DEMO)), payload: JSON.stringify(payload) })
  await post(a, '/health', undefined)
  await post(b, '/health', undefined) // both logged in
  let won = 0
  const rounds = 6
  for (let round = 0; round < rounds; round++) {
    sim.reset()
    const holding = post(a, '/observe/observables', [{ type: 'domain', value: `holder-${round}.example` }]) // Active, then Historical
    while (sim.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const tile = post(b, '/tiles/tile-data', { tile_id: 'qualys-ioc-events-by-type' }) // computed each time (TILE_CACHE_TTL_S 0)
    await new Promise((resolve) => setTimeout(resolve, 60))
    const investigation = post(a, '/observe/observables', [{ type: 'domain', value: `waiting-${round}.example` }])
    await Promise.all([holding, tile, investigation])
    const order = sim.calls.map((c) => c.path === 'count' ? 'tile' : c.filter?.includes('waiting-') === true ? 'investigation' : 'holder')
    const next = order.slice(1).find((who) => who !== 'holder')
    if (next === 'investigation') won++
  }
  t.equal(won, rounds, `the waiting investigation took the freed slot before the tile in ${won} of ${rounds} rounds`)
  t.ok(sim.byUser.demo !== undefined && sim.byUser.demo.maxInFlight <= 1, 'one call in flight at a time across both replicas')
})
