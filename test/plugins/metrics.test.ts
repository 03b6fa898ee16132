import type { AddressInfo } from 'node:net'
import t from 'tap'
import { request } from 'undici'
import { bearer, build, DEMO, hsToken, withSimulator } from '../helper.js'
import { freePort } from '../../scripts/free-port.js'

t.test('/metrics on its own port: requests, latency, Qualys calls, logins, cache', async (t) => {
  const sim = await withSimulator(t)
  const port = await freePort()
  const { app } = await build(t, { API_URL: sim.url, METRICS_PORT: String(port) })
  const observe = () => app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: [{ type: 'mutex', value: 'MSFTHISTORY!' }] })
  await observe()
  await observe() // from the lookup cache
  await app.inject({ method: 'GET', url: '/nope' })
  sim.inject({ status: 503 }, 4)
  await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: [{ type: 'ip', value: '1.1.1.1' }] })

  const res = await request(`http://127.0.0.1:${port}/metrics`)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain/)
  const text = await res.body.text()
  for (const line of [
    /^relay_http_requests_total\{route="\/observe\/observables",method="POST",status="200"\} 3$/m,
    /^relay_http_requests_total\{route="unknown",method="GET",status="404"\} 1$/m,
    /^relay_http_request_duration_seconds_bucket\{le="\+Inf",route="\/observe\/observables",method="POST"\} 3$/m,
    /^relay_qualys_logins_total 1$/m,
    /^relay_qualys_calls_total\{outcome="200"\} 3$/m,
    /^relay_qualys_calls_total\{outcome="503"\} 4$/m,
    /^relay_qualys_calls_total\{outcome="retry"\} 3$/m,
    /^relay_lookup_cache_total\{result="hit"\} 2$/m,
    /^relay_lookup_cache_total\{result="miss"\} 4$/m,
    /^relay_process_resident_memory_bytes \d+/m
  ]) t.match(text, line, String(line))
  t.equal((await request(`http://127.0.0.1:${port}/other`)).statusCode, 404)
  const relayPort = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(relayPort.statusCode, 404, 'never on the relay’s own port')
})

t.test('no metrics by default', async (t) => {
  const { app } = await build(t)
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404)
  t.equal(app.metrics.enabled, false, 'no registry: prom-client is not even loaded')
})

t.test('an overloaded event loop gets a fast 503 in the relay envelope', async (t) => {
  const { app } = await build(t, { MAX_EVENT_LOOP_DELAY_MS: '50' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/version`
  // Keep the event loop saturated (80 ms busy turns) for a while, asking over real HTTP all along
  // (each request yields to the event loop, so the busy turns and the lag sampler do run).
  const until = Date.now() + 2000
  const saturate = () => {
    const end = Date.now() + 80
    while (Date.now() < end) { /* busy */ }
    if (Date.now() < until) setImmediate(saturate)
  }
  setImmediate(saturate)
  const answers: Array<{ status: number, body: unknown, retryAfter: unknown }> = []
  while (Date.now() < until) {
    const res = await request(url, { method: 'POST' })
    answers.push({ status: res.statusCode, body: await res.body.json(), retryAfter: res.headers['retry-after'] })
  }
  const refused = answers.filter((a) => a.status === 503)
  t.ok(refused.length > 0, `${refused.length} of ${answers.length} requests refused while saturated`)
  t.same(refused[0]?.body, { errors: [{ type: 'fatal', code: 'service unavailable', message: 'The relay is overloaded. Please try again later.' }] })
  t.equal(refused[0]?.retryAfter, '5')
  t.ok(answers.every((a) => a.status === 200 || a.status === 503), 'nothing but 200 or the 503')
  // Served again once the loop is calm: how soon depends on the machine (a parallel test job can
  // stall the loop), so ask until a 200 comes, within a generous bound.
  let calm = 0
  for (const giveUp = Date.now() + 20_000; calm !== 200 && Date.now() < giveUp;) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    const res = await request(url, { method: 'POST' })
    calm = res.statusCode
    await res.body.dump()
  }
  t.equal(calm, 200, 'served again once the loop is calm')
})

t.test('Qualys’ rate-limit headers: gauges per credential (hashed), one warning below 10 %', async (t) => {
  const sim = await withSimulator(t, { rateLimit: { limit: 20, windowSec: 3600 } })
  const port = await freePort()
  const { app, logs } = await build(t, { API_URL: sim.url, METRICS_PORT: String(port), LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: 'off' })
  const observe = () => app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: [{ type: 'mutex', value: 'MSFTHISTORY!' }] })
  const warnings = () => logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'Qualys API budget below 10 % of its limit')
  for (let i = 0; i < 9; i++) await observe() // 18 calls: 2 left of 20, exactly 10 %
  t.equal(warnings().length, 0, 'no warning at 10 % left')
  const metrics = async () => (await (await request(`http://127.0.0.1:${port}/metrics`)).body.text())
  let text = await metrics()
  const label = /^relay_qualys_ratelimit_remaining\{credential="([0-9a-f]{10})"\} 2$/m.exec(text)?.[1]
  t.ok(label, 'remaining 2, labelled by a 10-hex-digit hash')
  t.match(text, new RegExp(`^relay_qualys_ratelimit_limit\\{credential="${label}"\\} 20$`, 'm'))
  t.match(text, new RegExp(`^relay_qualys_ratelimit_window_seconds\\{credential="${label}"\\} 3600$`, 'm'))
  t.notMatch(text, /demo/, 'never the user name')
  await observe() // 1 then 0 left
  await observe() // refused: 429
  const [warning, ...more] = warnings()
  t.equal(more.length, 0, 'one warning, not one per call')
  t.match(warning, { level: 40, credential: label, limit: 20, remaining: 1, windowSec: 3600 })
  text = await metrics()
  t.match(text, new RegExp(`^relay_qualys_ratelimit_remaining\\{credential="${label}"\\} 0$`, 'm'))
})

t.test('/metrics: Qualys refusing the credentials, and /health answers by result', async (t) => {
  const sim = await withSimulator(t)
  const port = await freePort()
  const { app } = await build(t, { API_URL: sim.url, METRICS_PORT: String(port), HEALTH_CACHE_S: '1' })
  const health = (pass: string) => app.inject({ method: 'POST', url: '/health', headers: bearer(hsToken({ user: DEMO.user, pass })) })
  t.equal((await health(DEMO.pass)).json().data.status, 'ok')
  t.match((await health('not-the-password')).json().errors, [{ code: 'authorization error' }])
  await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken({ user: DEMO.user, pass: 'another-wrong-one' })), payload: [{ type: 'ip', value: '1.1.1.1' }] })
  const text = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text()
  t.match(text, /^relay_qualys_credentials_refused_total 2$/m, 'two refused logins: health\'s and the lookup\'s')
  t.match(text, /^relay_health_answers_total\{result="ok"\} 1$/m)
  t.match(text, /^relay_health_answers_total\{result="error"\} 1$/m)
})
