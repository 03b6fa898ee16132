import type { AddressInfo } from 'node:net'
import t from 'tap'
import { bearer, build, DEMO, hsToken, markRequestTimes, withSimulator } from '../helper.js'

// Events written for this test: the expected verdicts below are worked out by hand from them
// with CTIM's rule (all judgements have priority 90; Clean before Malicious before Suspicious
// before Common before Unknown).
const event = (id: string, mutex: string, verdicts: unknown[]) => ({
  id,
  type: 'MUTEX',
  dateTime: '2025-01-01T00:00:00.000+0000',
  score: '5',
  handle: { name: mutex },
  indicator2: verdicts.map((verdict) => ({ verdict, threatName: 'T' }))
})
const FIXTURES = {
  active: [
    event('E1', 'both', ['MALICIOUS']),
    event('E2', 'both', ['KNOWN']), // KNOWN and MALICIOUS on one observable: Clean wins
    event('E3', 'unmapped', ['QUARANTINED', 'whatever']), // only unmapped strings: Unknown
    event('E4', 'bad', ['SUSPICIOUS', 'REMEDIATED']), // Malicious before Suspicious
    event('E5', 'suspicious', ['SUSPICIOUS', 'UNKNOWN']),
    event('E6', 'no-judgement', [])
  ],
  historical: []
}
const DAY = 86_400_000

async function setup (t: any, env: Record<string, string> = {}) {
  const sim = await withSimulator(t, { fixtures: FIXTURES })
  const { app } = await build(t, { API_URL: sim.url, ...env })
  await app.listen({ port: 0, host: '127.0.0.1' }) // over real HTTP
  const root = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const post = async (url: string, payload: unknown) => {
    const from = Date.now() - 1
    const res = await fetch(`${root}${url}`, { method: 'POST', headers: bearer(hsToken(DEMO)), body: JSON.stringify(payload) })
    t.equal(res.status, 200)
    return { body: await res.json() as any, from, to: Date.now() + 1 }
  }
  return { sim, post }
}

const verdict = (value: string, disposition: number, name: string) =>
  ({ type: 'verdict', observable: { type: 'mutex', value }, disposition, disposition_name: name, valid_time: { start_time: 'now', end_time: 'now + 7 days' } })

t.test('one verdict per judged observable, by CTIM’s rule; none without judgements or events', async (t) => {
  const { post } = await setup(t)
  const payload = ['both', 'unmapped', 'no-judgement', 'nothing-at-all', 'bad', 'suspicious'].map((value) => ({ type: 'mutex', value }))
  const { body, from, to } = await post('/deliberate/observables', payload)
  // valid_time: from the request time, VERDICT_VALID_DAYS (7) days long.
  for (const doc of body.data.verdicts.docs) {
    t.equal(Date.parse(doc.valid_time.end_time) - Date.parse(doc.valid_time.start_time), 7 * DAY, 'valid for 7 days')
    t.match(doc.valid_time.end_time, /Z$/)
    doc.valid_time.end_time = 'now + 7 days'
  }
  t.strictSame(markRequestTimes(body, from, to, 'now'), {
    data: {
      verdicts: {
        count: 4,
        docs: [
          verdict('both', 1, 'Clean'),
          verdict('unmapped', 5, 'Unknown'),
          verdict('bad', 2, 'Malicious'),
          verdict('suspicious', 3, 'Suspicious')
        ]
      }
    }
  })
})

t.test('no judgement anywhere: {"data":{}}; VERDICT_VALID_DAYS bounds valid_time', async (t) => {
  const { post } = await setup(t, { VERDICT_VALID_DAYS: '30' })
  t.strictSame((await post('/deliberate/observables', [{ type: 'mutex', value: 'no-judgement' }, { type: 'email', value: 'x@y.z' }])).body, { data: {} })
  const { body } = await post('/deliberate/observables', [{ type: 'mutex', value: 'both' }])
  const { start_time: start, end_time: end } = body.data.verdicts.docs[0].valid_time
  t.equal(Date.parse(end) - Date.parse(start), 30 * DAY)
})

t.test('observe then deliberate for the same observables: no extra Qualys call', async (t) => {
  const { sim, post } = await setup(t)
  const payload = [{ type: 'mutex', value: 'both' }, { type: 'mutex', value: 'bad' }]
  const observed = await post('/observe/observables', payload)
  t.equal(observed.body.data.judgements.count, 4)
  const calls = sim.calls.length
  const deliberated = await post('/deliberate/observables', payload)
  t.equal(deliberated.body.data.verdicts.count, 2)
  t.equal(sim.calls.length, calls, 'deliberate was served by the lookup cache')
})

t.test('Qualys errors beside the verdicts found; auth first; warnings for unquotable values', async (t) => {
  const { sim, post } = await setup(t, { LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: 'off', QUALYS_CONCURRENCY: '1' })
  await post('/deliberate/observables', [{ type: 'mutex', value: 'both' }]) // log in
  sim.inject({ pass: true }) // 'both' Active (one call in flight: both Actives first, then Historicals)
  sim.inject({ status: 403, body: 'no EDR' }) // 'bad' Active
  const { body } = await post('/deliberate/observables', [{ type: 'mutex', value: 'both' }, { type: 'mutex', value: 'bad' }, { type: 'mutex', value: 'say "hi"' }])
  t.same(body.data.verdicts.docs.map((d: { observable: { value: string } }) => d.observable.value), ['both'])
  t.same(body.errors.map((e: { code: string, type: string }) => `${e.type} ${e.code}`), ['warning invalid argument', 'fatal permission denied'])
  const anonymous = await sim.calls.length
  const build2 = await build(t, { API_URL: sim.url })
  const res = await build2.app.inject({ method: 'POST', url: '/deliberate/observables', payload: '[{"type": 1}]' })
  t.same(res.json().errors[0].message, 'Authorization failed: Authorization header is missing', 'authentication before validation')
  t.equal(sim.calls.length, anonymous)
})
