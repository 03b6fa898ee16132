import t from 'tap'
import { bearer, build, DEMO, hsToken, normaliseIds, withSimulator, type Simulator } from '../helper.js'

const SHA = '4ad5e3c4ea0b3a8c84a5ba9ec4e8f0cd1cd26fbb54e1e01b54b0e6e0cc9a0f34'
const NOISY = '0e7b6d4c5a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d'
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

t.test('a batch answer that fills the page falls back to one-by-one queries', async (t) => {
  const { sim, observe } = await pair(t)
  const payload = [h('sha256', NOISY), h('sha256', SHA)]
  const batched = await observe(0, payload, { CTR_ENTITIES_LIMIT: 2 }) // a page of 4: NOISY alone fills it
  const schedule = sim.calls.filter((c) => c.path === 'events').map((c) => `${c.state ?? '-'} ${c.pageSize} ${c.filter?.includes(' or ') ? 'batch' : 'single'}`)
  t.strictSame(schedule.sort(), ['- 1 single', '- 4 batch', 'true 2 single', 'true 4 batch'],
    'NOISY is complete within each full page; only SHA, short in them, is asked alone (its Historical event has no ' +
    'dateTime, so newest-first puts it after the page of NOISY events)')
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

t.test('a failed batch reports its error once and keeps what was found', async (t) => {
  const { batched } = await faulted(t, { status: 500, body: 'boom' })
  t.strictSame(batched.body, { errors: [{ type: 'fatal', code: 'unknown', message: 'Unexpected response from Qualys IOC: boom' }] })
})

t.test('50 sha256 observables with few events cost a login and two calls', async (t) => {
  const sim = await withSimulator(t)
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0' })
  const payload = [h('sha256', SHA), ...Array.from({ length: 49 }, (_, i) => h('sha256', i.toString(16).padStart(64, '0')))]
  const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload })
  t.equal(res.json().data.sightings.count, 2)
  t.equal(sim.calls.length, 3, 'login + Active batch + Historical batch')
})
