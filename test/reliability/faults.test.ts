import t from 'tap'
import { request } from 'undici'
import { freePort } from '../../scripts/free-port.js'
import { bearer, build, ctimErrors, DEMO, hsToken, withSimulator, type Simulator } from '../helper.js'

const MUTEX = { type: 'mutex', value: 'MSFTHISTORY!' }
const IP = { type: 'ip', value: '23.38.112.137' }
const DEADLINE = 1500
type Fault = Parameters<Simulator['inject']>[0]

// Every fault hits MUTEX's Active call, the second call (QUALYS_CONCURRENCY=1 keeps the order:
// IP Active, MUTEX Active and its retries, IP Historical, MUTEX Historical);
// the answer must carry the SPEC §6 error, arrive within the deadline, keep the other
// observable's documents, and the relay must be healthy afterwards.
t.test('upstream faults end in their SPEC §6 error, in time, keeping the rest', async (t) => {
  const sim = await withSimulator(t)
  const { app, logs } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_CONCURRENCY: '1', QUALYS_BATCH: 'off', QUALYS_DEADLINE_MS: String(DEADLINE), QUALYS_RETRIES: '3' })
  const post = async (url: string, payload?: unknown) =>
    (await app.inject({ method: 'POST', url, headers: bearer(hsToken(DEMO)), payload: payload === undefined ? undefined : JSON.stringify(payload) })).json()
  await post('/health')

  const tooMany = { code: 'too many requests', message: 'Too many requests to Qualys IOC have been made. Please try again later.' }
  const connection = { code: 'connection error', message: `Unable to connect Qualys IOC, validate the configured API URL: ${sim.url}` }
  const cases: Array<[string, Fault[], { code: string, message: string | RegExp } | undefined]> = [
    ['429 storm, no wait headers', Array(4).fill({ status: 429 }), tooMany],
    ['429 storm with X-RateLimit-ToWait-Sec', Array(4).fill({ status: 429, headers: { 'x-ratelimit-towait-sec': '0.05' } }), tooMany],
    ['429 storm with Retry-After as a date', Array(4).fill({ status: 429, headers: () => ({ 'retry-after': new Date(Date.now() + 100).toUTCString() }) }), tooMany],
    ['429 then success', [{ status: 429, headers: { 'retry-after': '0' } }], undefined],
    ['503 storm', Array(4).fill({ status: 503 }), { code: 'service unavailable', message: 'Service temporarily unavailable. Please try again later.' }],
    ['500 with an HTML body', [{ status: 500, body: '<!DOCTYPE html><html><head><title>500</title></head><body>Server Error</body></html>' }],
      { code: 'unknown', message: 'Unexpected response from Qualys IOC: <!DOCTYPE html><html><head><title>500</title></head><body>Server Error</body></html>' }],
    ['a hang', [{ hang: true }], { code: 'timeout', message: `Qualys IOC did not answer in time (limit ${DEADLINE} ms)` }],
    ['a connection reset', [{ reset: true }], connection],
    ['a body cut in the middle', [{ cutBody: true }], connection],
    ['invalid JSON', [{ invalidJson: true }], { code: 'unknown', message: /^Unexpected response from Qualys IOC: \[\{"id": "F_broken"/ }],
    ['an upstream text of 1 MB is cut', [{ status: 502, body: 'x'.repeat(1 << 20) }], { code: 'unknown', message: /^Unexpected response from Qualys IOC: x{300}…$/ }]
  ]
  for (const [name, faults, error] of cases) {
    sim.reset()
    sim.inject({ pass: true })
    for (const f of faults) sim.inject(f)
    const started = Date.now()
    const body = await post('/observe/observables', [IP, MUTEX])
    const elapsed = Date.now() - started
    t.ok(elapsed < DEADLINE + 1000, `${name}: answered in ${elapsed} ms`)
    if (error === undefined) t.notOk(body.errors, `${name}: no error`)
    else t.match(body.errors, [{ type: 'fatal', ...error }], name)
    t.ok((body.errors?.length ?? 0) <= 1, `${name}: the error once`)
    const kept = body.data.sightings.docs.map((d: { observables: Array<{ type: string }> }) => d.observables[0]?.type)
    t.ok(kept.includes('ip'), `${name}: the other observable's documents are kept`)
    t.same(ctimErrors(body.data), [])
    const networkLines = logs.splice(0).filter((l) => l.includes('qualys: no answer (network error)')).map((l) => JSON.parse(l))
    if (error === connection) {
      // The operator learns what failed below HTTP (the error's code), for the one call it hit.
      t.match(networkLines, [{ level: 40, cause: /^(ECONNRESET|UND_ERR_SOCKET)$/, path: '/ioc/events' }], `${name}: logged with its cause`)
      t.equal(networkLines.length, 1, `${name}: one line for the one call`)
    } else t.same(networkLines, [], `${name}: no network error logged`)
    sim.reset()
    t.same(await post('/health'), { data: { status: 'ok' } }, `${name}: healthy afterwards`)
  }
})

t.test('a 10,000-event answer is cut to the limit', async (t) => {
  const sim = await withSimulator(t)
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0' })
  const events = Array.from({ length: 10_000 }, (_, i) => ({ id: `F_big_${i}`, type: 'FILE', score: '2', indicator2: [{ verdict: 'UNKNOWN' }], handle: { name: 'MSFTHISTORY!' } }))
  sim.inject({ status: 200, body: JSON.stringify(events) })
  const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: [MUTEX] })
  const body = res.json()
  t.equal(body.data.sightings.count, 100)
  t.equal(body.data.judgements.count, 100)
  t.same(body.data.sightings.docs.map((d: { external_ids: string[] }) => d.external_ids[0]).slice(0, 2), ['F_big_0', 'F_big_1'])
})

t.test('slow answers near the deadline: what arrives in time is kept, the rest times out', async (t) => {
  const sim = await withSimulator(t, { latencyMs: 300 })
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_CONCURRENCY: '1', QUALYS_BATCH: 'off', QUALYS_DEADLINE_MS: '1000' })
  const post = async (payload: unknown) =>
    (await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: JSON.stringify(payload) })).json()
  const started = Date.now()
  // login 300 + MUTEX Active 300 = 600 ms; MUTEX Historical would end at 900; IP cannot finish.
  const body = await post([MUTEX, IP])
  t.ok(Date.now() - started < 1800, 'answered soon after the deadline')
  t.same(body.errors, [{ type: 'fatal', code: 'timeout', message: 'Qualys IOC did not answer in time (limit 1000 ms)' }])
  t.ok(body.data.sightings.count >= 1, 'the calls that finished in time are kept')
})

// The date is built when the 429 is served, 2 s ahead: HTTP dates have whole seconds, so the
// relay must wait between 1 and 2 s before its retry (never 0), and then succeed.
t.test('a Retry-After HTTP date is waited for', async (t) => {
  const sim = await withSimulator(t)
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_CONCURRENCY: '1', QUALYS_DEADLINE_MS: '10000' })
  await app.inject({ method: 'POST', url: '/health', headers: bearer(hsToken(DEMO)) })
  sim.reset()
  sim.inject({ status: 429, headers: () => ({ 'retry-after': new Date(Date.now() + 2000).toUTCString() }) })
  const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: [MUTEX] })
  t.notOk(res.json().errors, 'the retry succeeded')
  const [throttled, retried] = sim.calls.filter((c) => c.path === 'events')
  t.equal(throttled?.status, 429)
  t.equal(retried?.status, 200)
  const gap = (retried?.at ?? 0) - (throttled?.at ?? 0)
  t.ok(gap >= 900 && gap <= 2500, `the retry came ${gap} ms after the 429 (the date was 1–2 s ahead)`)
})

t.test('a login that gets no answer: the connection error, and one line with its cause for the operator', async (t) => {
  const port = await freePort() // nothing listens there: the connection is refused
  const apiUrl = `http://127.0.0.1:${port}`
  const metricsPort = await freePort()
  const { app, logs } = await build(t, { API_URL: apiUrl, QUALYS_DEADLINE_MS: String(DEADLINE), METRICS_PORT: String(metricsPort) })
  const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: [MUTEX] })
  t.match(res.json().errors, [{ type: 'fatal', code: 'connection error', message: `Unable to connect Qualys IOC, validate the configured API URL: ${apiUrl}` }])
  const lines = logs.filter((l) => l.includes('qualys: no answer to the login (network error)')).map((l) => JSON.parse(l))
  t.match(lines, [{ level: 40, cause: 'ECONNREFUSED', path: '/auth' }], 'logged with its cause, once')
  t.equal(lines.length, 1)
  t.notOk(logs.join('\n').includes(DEMO.pass), 'not the password')
  // The login went down the one stack: counted as every call's network error is, by the transport.
  const metrics = await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text()
  t.match(metrics, /^relay_qualys_logins_total 1$/m, 'one login tried')
  t.match(metrics, /^relay_qualys_calls_total\{outcome="network_error"\} 1$/m, 'its network error counted like any call\'s')
})
