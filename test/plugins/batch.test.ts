import t from 'tap'
import { bearer, build, DEMO, hsToken, normaliseIds, withSimulator, type Simulator } from '../helper.js'
import { NOISY, SHA } from '../fixtures/hashes.js'

const PS_MD5 = '7353f60b1739074eb17c5f4dddefe239'
const PS_SHA = 'de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c'
const BUBLIK_MD5 = '6f8d12a1b0c9e7d5a4f3b2c1d0e9f8a7'
const h = (type: string, value: string) => ({ type, value })

async function pair (t: any) {
  const sim = await withSimulator(t)
  const relays = await Promise.all(['mixed', 'off'].map((batch) =>
    build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: batch })))
  const observe = async (i: number, payload: unknown, claims: Record<string, unknown> = {}) => {
    const before = sim.calls.length
    const res = await relays[i]!.app.inject({
      method: 'POST', url: '/observe/observables', headers: bearer(hsToken({ ...DEMO, ...claims })), payload: JSON.stringify(payload)
    })
    return { body: normaliseIds(res.json()).body, calls: sim.calls.slice(before).filter((c) => c.path === 'events').length }
  }
  return { sim, observe }
}

t.test('batched and one-by-one answers are identical, truncation included', async (t) => {
  const { observe } = await pair(t)
  const requests = [
    [h('sha256', SHA), h('md5', PS_MD5)],
    [h('sha256', SHA), h('md5', BUBLIK_MD5), h('sha256', SHA.toUpperCase())],
    [h('sha256', NOISY), h('sha256', SHA), h('md5', PS_MD5), h('sha256', PS_SHA)],
    [h('md5', 'ffffffffffffffffffffffffffffffff'), h('sha256', 'e'.repeat(64)), h('ip', '23.38.112.137'), h('sha256', SHA)],
    [h('sha256', SHA), h('md5', BUBLIK_MD5), h('mutex', 'MSFTHISTORY!'), h('md5', PS_MD5), h('sha256', NOISY)]
  ]
  for (const payload of requests) {
    for (const limit of [undefined, 1, 2, 3, 131]) {
      const claims = limit === undefined ? {} : { CTR_ENTITIES_LIMIT: limit }
      const batched = await observe(0, payload, claims)
      const single = await observe(1, payload, claims)
      t.strictSame(batched.body, single.body, `${payload.map((p) => p.type).join(',')} limit ${limit ?? 100}`)
      t.ok(batched.calls <= single.calls, `no more calls batched (${batched.calls} vs ${single.calls})`)
    }
  }
})

t.test('a batch answer that fills the page: only the observables short in it are asked again', async (t) => {
  const { sim, observe } = await pair(t)
  const payload = [h('sha256', NOISY), h('sha256', SHA)]
  const batched = await observe(0, payload, { CTR_ENTITIES_LIMIT: 2 }) // a page of 4: NOISY alone fills it
  const schedule = sim.calls.filter((c) => c.path === 'events').map((c) => `${c.state ?? '-'} ${c.pageSize} ${c.filter?.includes(' or ') ? 'batch' : 'single'}`)
  t.strictSame(schedule.sort(), ['- 2 single', '- 4 batch', 'true 2 single', 'true 4 batch'],
    'NOISY is complete within each full page; only SHA, short in them, is asked again, for its own limit (its Historical ' +
    'event has no dateTime, so newest-first puts it after the page of NOISY events)')
  t.strictSame(batched.body, (await observe(1, payload, { CTR_ENTITIES_LIMIT: 2 })).body)
})

async function faulted (t: any, fault: Parameters<Simulator['inject']>[0]) {
  const { sim, observe } = await pair(t)
  const payload = [h('sha256', SHA), h('md5', PS_MD5)]
  const expected = await observe(1, payload)
  sim.inject(fault, 2) // the Active and Historical batches
  const batched = await observe(0, payload)
  t.equal(sim.calls.filter((c) => c.path === 'events').slice(-6).filter((c) => c.filter?.includes(' or ')).length, 2, 'both batches were asked')
  return { expected, batched, sim }
}

t.test('a 400 on a batch is never read as "no events"', async (t) => {
  const { expected, batched } = await faulted(t, { status: 400, body: '{"message":"query too complex"}' })
  t.ok(expected.body.data.sightings.count > 0)
  t.strictSame(batched.body, expected.body)
})

t.test('an event that belongs to no observable makes the batch fall back', async (t) => {
  const stray = [{ id: 'F_stray', type: 'FILE', score: '9', file: { sha256: 'a'.repeat(64) } }]
  const { expected, batched } = await faulted(t, { status: 200, body: JSON.stringify(stray) })
  t.strictSame(batched.body, expected.body)
})

t.test('a batch that failed once: its halves are asked, nothing is lost', async (t) => {
  const { expected, batched } = await faulted(t, { status: 500, body: 'boom' })
  t.strictSame(batched.body, expected.body)
})

const FIFTY = [h('sha256', SHA), ...Array.from({ length: 49 }, (_, i) => h('sha256', i.toString(16).padStart(64, '0')))]
const eventCalls = (sim: Simulator) => sim.calls.filter((c) => c.path === 'events')

t.test('50 sha256 observables with few events: two batches per state under 4 KB, one with QUALYS_MAX_URL_BYTES=8000', async (t) => {
  const sim = await withSimulator(t)
  for (const [max, calls] of [[undefined, 4], ['8000', 2]] as const) {
    sim.reset()
    const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', ...(max === undefined ? {} : { QUALYS_MAX_URL_BYTES: max }) })
    const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: FIFTY })
    t.equal(res.json().data.sightings.count, 2)
    t.equal(eventCalls(sim).length, calls, `${calls} events calls (QUALYS_MAX_URL_BYTES ${max ?? 'default'})`)
    const longest = Math.max(...sim.calls.map((c) => Buffer.byteLength(c.target)))
    t.ok(longest <= Number(max ?? 4000) && longest > Number(max ?? 4000) / 2, `every request target under the bound (the longest ${longest} bytes)`)
  }
})

t.test('behind a front end that refuses request targets over 4,096 bytes (414, HTML): every answer right, the refusal paid once', async (t) => {
  const sim = await withSimulator(t, { targetLimit: { bytes: 4096 } })
  const reference = await withSimulator(t)
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_MAX_URL_BYTES: '8000' }) // an operator guessed too high
  const { app: ref } = await build(t, { API_URL: reference.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: 'off' })
  const post = async (relay: typeof app, payload: unknown) => normaliseIds((await relay.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: JSON.stringify(payload) })).json()).body
  const perRequest: number[] = []
  for (let i = 0; i < 8; i++) {
    const payload = FIFTY.map((o, j) => j === 0 ? o : h('sha256', `${i}`.padEnd(2, 'f') + o.value.slice(2)))
    const before = eventCalls(sim).length
    t.strictSame(await post(app, payload), await post(ref, payload), `request ${i + 1}: the answer one by one gives`)
    perRequest.push(eventCalls(sim).length - before)
  }
  const refused = sim.calls.filter((c) => c.status === 414).length
  t.ok(perRequest.every((n) => n <= 6) && perRequest.slice(1).every((n) => n <= 4), `calls per request: ${perRequest.join(', ')} (≤ 4 once the size is learnt)`)
  t.ok(refused <= 2, `${refused} refused calls over 8 requests (Active and Historical, once)`)
})

t.test('a batch asks at most 1,000 events a call, whatever the limit times the observables', async (t) => {
  const { sim, observe } = await pair(t)
  const twenty = FIFTY.slice(0, 20)
  const batched = await observe(0, twenty, { CTR_ENTITIES_LIMIT: 100 }) // 20 × 100 = 2,000 wanted per state
  const sizes = eventCalls(sim).filter((c) => c.filter?.includes(' or ') === true).map((c) => c.pageSize ?? 0)
  t.ok(sizes.length >= 2 && sizes.every((n) => n <= 1000), `batched page sizes ${sizes.join(', ')}`)
  t.ok(sizes.includes(1000), 'the cap is reached')
  t.strictSame(batched.body, (await observe(1, twenty, { CTR_ENTITIES_LIMIT: 100 })).body)
})

t.test('one noisy observable (1,500 events) among 50 sha256: a few calls, the same answer', async (t) => {
  const noisy = Array.from({ length: 1500 }, (_, i) => ({ id: `F_noise_${i}`, type: 'FILE', dateTime: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString().replace('Z', '+0000'), score: '0', file: { sha256: NOISY } }))
  const fixtures = { active: noisy, historical: noisy.map((e) => ({ ...e, id: `${e.id}_h` })) }
  const sim = await withSimulator(t, { fixtures })
  const reference = await withSimulator(t, { fixtures })
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_MAX_URL_BYTES: '8000' }) // one batch of 50 per state
  const { app: ref } = await build(t, { API_URL: reference.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: 'off' })
  const payload = [...FIFTY.slice(0, 25), h('sha256', NOISY), ...FIFTY.slice(25, 49)]
  const post = async (relay: typeof app) => normaliseIds((await relay.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload })).json()).body
  const answer = await post(app)
  t.strictSame(answer, await post(ref))
  t.equal(answer.data.sightings.count, 100, 'the noisy observable: its limit of sightings')
  t.ok(eventCalls(sim).length <= 4, `${eventCalls(sim).length} events calls (51 one by one)`)
})

t.test('one observable whose query Qualys fails, batched with others: the others keep theirs, the error once', async (t) => {
  for (const fault of [{ status: 500, body: 'boom' }, { reset: true as const }]) {
    const { sim, observe } = await pair(t)
    sim.rule = (call) => call.filter?.includes(`"${PS_MD5}"`) === true ? fault : undefined
    const payload = [h('sha256', SHA), h('md5', BUBLIK_MD5), h('md5', PS_MD5), h('mutex', 'MSFTHISTORY!')]
    const batched = await observe(0, payload)
    t.equal(batched.body.errors.length, 1, `${JSON.stringify(fault)}: one error`)
    t.ok(batched.body.data.sightings.count > 0, 'the others kept what they found')
    t.strictSame(batched.body, (await observe(1, payload)).body, 'exactly what one by one gives')
  }
})

t.test('an outage (every call fails alike) costs a batch at most 3 calls per state', async (t) => {
  const sim = await withSimulator(t)
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_RETRIES: '0' })
  await app.inject({ method: 'POST', url: '/health', headers: bearer(hsToken(DEMO)) })
  sim.reset()
  sim.rule = () => ({ status: 500, body: 'down' })
  const body = (await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: FIFTY.slice(0, 20) })).json()
  t.same(body.errors, [{ type: 'fatal', code: 'unknown', message: 'Unexpected response from Qualys IOC: down' }])
  t.ok(eventCalls(sim).length <= 6, `${eventCalls(sim).length} calls for one batch per state`)
})
