import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { bearer, build, ctimErrors, DEMO, hsToken, withSimulator, type Simulator } from '../helper.js'
import { PROGRAMS, withPrograms } from '../system.js'

const MUTEX = { type: 'mutex', value: 'MSFTHISTORY!' }
const IP = { type: 'ip', value: '23.38.112.137' }
const fatal = (code: string, message: string) => ({ type: 'fatal', code, message })

async function relay (t: any, sim: Simulator, env: Record<string, string> = {}) {
  // One call per observable and state (QUALYS_BATCH=off): the injected faults aim at single calls.
  // Every health check is a real one (HEALTH_CACHE_S=0): these tests are about what it finds.
  const built = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_CONCURRENCY: '1', QUALYS_BATCH: 'off', HEALTH_CACHE_S: '0', ...env })
  const call = async (url: string, payload?: unknown, claims: Record<string, unknown> = DEMO) => {
    const res = await built.app.inject({
      method: 'POST', url, headers: bearer(hsToken(claims)), payload: payload === undefined ? undefined : JSON.stringify(payload)
    })
    // Relay errors are HTTP 200 too, so the status says little: the tests assert on the body.
    // Anything else is a framework error, which no test here expects.
    if (res.statusCode !== 200) throw new Error(`${url} answered HTTP ${res.statusCode}: ${res.body}`)
    return res.json()
  }
  return {
    ...built,
    observe: (payload: unknown, claims?: Record<string, unknown>) => call('/observe/observables', payload, claims),
    health: (claims?: Record<string, unknown>) => call('/health', undefined, claims)
  }
}

const eventCalls = (sim: Simulator) => sim.calls.filter((c) => c.path === 'events')

t.test('each upstream status of an events call maps to its SPEC §6 error', async (t) => {
  const sim = await withSimulator(t)
  const { observe } = await relay(t, sim, { QUALYS_RETRIES: '1' })
  const cases: Array<[string, Parameters<Simulator['inject']>[0], number, unknown]> = [
    ['403', { status: 403, body: 'User does not have EDR API access' }, 1,
      fatal('permission denied', 'Unexpected response from Qualys IOC: User does not have EDR API access')],
    ['500 with an HTML body', { status: 500, body: '<html>\n<body><h1>Internal   Server Error</h1></body></html>' }, 1,
      fatal('unknown', 'Unexpected response from Qualys IOC: <html> <body><h1>Internal Server Error</h1></body></html>')],
    ['502 with no body', { status: 502 }, 1, fatal('unknown', 'Unexpected response from Qualys IOC: HTTP 502')],
    ['a redirect is not followed', { status: 302, headers: { location: 'http://127.0.0.1:1/steal' }, body: 'moved' }, 1,
      fatal('unknown', 'Unexpected response from Qualys IOC: moved')],
    ['429 after retries', { status: 429, headers: { 'x-ratelimit-towait-sec': '0' } }, 2,
      fatal('too many requests', 'Too many requests to Qualys IOC have been made. Please try again later.')],
    ['409 after retries', { status: 409, headers: { 'retry-after': '0' }, body: '<SIMPLE_RETURN>1965</SIMPLE_RETURN>' }, 2,
      fatal('too many requests', 'Too many requests to Qualys IOC have been made. Please try again later.')],
    ['503 after retries', { status: 503 }, 2,
      fatal('service unavailable', 'Service temporarily unavailable. Please try again later.')],
    ['invalid JSON', { invalidJson: true }, 1, fatal('unknown', 'Unexpected response from Qualys IOC: [{"id": "F_broken", "type":')],
    ['a JSON object instead of a list', { status: 200, body: '{"data": []}' }, 1,
      fatal('unknown', 'Unexpected response from Qualys IOC: {"data": []}')],
    ['connection reset', { reset: true }, 1,
      fatal('connection error', `Unable to connect Qualys IOC, validate the configured API URL: ${sim.url}`)],
    ['body cut in the middle', { cutBody: true }, 1,
      fatal('connection error', `Unable to connect Qualys IOC, validate the configured API URL: ${sim.url}`)]
  ]
  for (const [name, fault, count, error] of cases) {
    sim.reset()
    sim.inject(fault, count)
    const body = await observe([MUTEX])
    t.same(body.errors, [error], name)
    // The Active call failed; Historical still ran as if Active had found nothing.
    t.same(body.data?.sightings?.docs.map((d: { data: { rows: string[][] } }) => d.data.rows[0]?.[0]), ['False'], `${name}: Historical kept`)
  }
})

t.test('204, 400, 404 and an empty body mean no events', async (t) => {
  const sim = await withSimulator(t)
  const { observe } = await relay(t, sim)
  for (const fault of [{ status: 204 }, { status: 400, body: '{"message":"bad filter"}' }, { status: 404 }, { status: 200, body: '' }]) {
    sim.reset()
    sim.inject(fault, 2)
    t.same(await observe([MUTEX]), { data: {} }, `status ${fault.status}`)
  }
})

t.test('login failures', async (t) => {
  const sim = await withSimulator(t, { accounts: { demo: 'demo-password', 'p&u': 'a&b=c+d%20e' } })
  const { observe, health } = await relay(t, sim)
  t.same((await observe([MUTEX, IP], { user: 'demo', pass: 'wrong' })).errors,
    [fatal('authorization error', 'Authorization failed: InvalidCredentialsException')], 'refused login, reported once')
  t.equal(sim.counters.logins, 1, 'no further login for that request')
  t.equal(eventCalls(sim).length, 0, 'and no events call')

  const cases: Array<[Parameters<Simulator['inject']>[0], unknown]> = [
    [{ status: 401, body: '{"message":"Account locked"}' }, fatal('authorization error', 'Authorization failed: Account locked')],
    [{ status: 401, body: 'plain refusal' }, fatal('authorization error', 'Authorization failed: plain refusal')],
    [{ status: 400, body: 'token parameter missing' }, fatal('authorization error', 'Unexpected response from Qualys IOC: token parameter missing')],
    [{ status: 403, body: 'API access disabled' }, fatal('permission denied', 'Unexpected response from Qualys IOC: API access disabled')],
    [{ status: 503 }, fatal('service unavailable', 'Service temporarily unavailable. Please try again later.')],
    [{ status: 418, body: 'teapot' }, fatal('unknown', 'Unexpected response from Qualys IOC: teapot')]
  ]
  for (const [fault, error] of cases) {
    sim.inject(fault, 1, 'auth')
    t.same((await health()).errors, [error], `login ${'status' in fault ? fault.status : ''}`)
  }
  t.same(await health({ user: 'p&u', pass: 'a&b=c+d%20e' }), { data: { status: 'ok' } }, 'credentials are URL-encoded')
})

t.test('retry then success, honouring the wait headers', async (t) => {
  const sim = await withSimulator(t)
  const { observe } = await relay(t, sim)
  sim.inject({ status: 429, headers: { 'x-ratelimit-towait-sec': '0.2' } })
  sim.inject({ status: 503, headers: { 'retry-after': '0.1' } })
  const body = await observe([MUTEX])
  t.notOk(body.errors, 'no error once a retry succeeds')
  t.equal(body.data.sightings.count, 2)
  const [first, second, third] = eventCalls(sim)
  t.ok(second!.at - first!.at >= 190, `waited X-RateLimit-ToWait-Sec (${second!.at - first!.at} ms)`)
  t.ok(third!.at - second!.at >= 90, `waited Retry-After (${third!.at - second!.at} ms)`)
  t.equal(eventCalls(sim).length, 4, '2 failures, then Active and Historical')
})

t.test('after a 429 with a wait, no request of that credential calls Qualys before the wait is over', async (t) => {
  const sim = await withSimulator(t, { latencyMs: 100 })
  const { observe } = await relay(t, sim, { QUALYS_CONCURRENCY: '2' })
  await observe([MUTEX]) // the token: only events calls follow
  sim.reset()
  sim.inject({ status: 429, headers: { 'x-ratelimit-towait-sec': '0.5' } })
  const first = observe([MUTEX])
  await new Promise((resolve) => setTimeout(resolve, 150))
  const second = await observe([{ type: 'ip', value: '23.38.112.137' }]) // a free slot, yet it waits
  t.same([(await first).errors, second.errors], [undefined, undefined])
  const refused = eventCalls(sim).find((c) => c.status === 429)
  const later = eventCalls(sim).filter((c) => c !== refused)
  t.equal(later.length, 4, 'the first request\'s retried Active and its Historical call, the second request\'s two')
  t.ok(Math.min(...later.map((c) => c.at)) >= (refused?.at ?? 0) + 100 + 500 - 20, 'none before the wait was over')
})

t.test('retries are bounded, and never wait past the deadline', async (t) => {
  const sim = await withSimulator(t)
  const { observe } = await relay(t, sim, { QUALYS_RETRIES: '2', QUALYS_DEADLINE_MS: '2000' })
  sim.inject({ status: 429 }, 10)
  t.same((await observe([MUTEX])).errors, [fatal('too many requests', 'Too many requests to Qualys IOC have been made. Please try again later.')])
  t.equal(eventCalls(sim).filter((c) => c.state === 'true').length, 3, '1 call + 2 retries (backoff with jitter)')

  sim.reset()
  sim.inject({ status: 429, headers: { 'x-ratelimit-towait-sec': '3600' } })
  const started = Date.now()
  const [error] = (await observe([MUTEX])).errors
  t.match(error, { type: 'fatal', code: 'too many requests', message: /^Qualys API budget spent until \S+Z \(429\)\. Please try again then\.$/ }, 'until when, at once')
  t.ok(Date.now() - started < 2000, 'a wait longer than the deadline is not attempted')
})

t.test('a hang ends in the timeout error within the deadline, keeping earlier results', async (t) => {
  const sim = await withSimulator(t)
  const { observe, health } = await relay(t, sim, { QUALYS_DEADLINE_MS: '400' })
  await observe([MUTEX]) // log in first
  sim.reset()
  sim.inject({ pass: true }, 2) // MUTEX Active and Historical answer
  sim.inject({ hang: true }, 2) // IP hangs
  const started = Date.now()
  const body = await observe([MUTEX, IP])
  const elapsed = Date.now() - started
  t.same(body.errors, [fatal('timeout', 'Qualys IOC did not answer in time (limit 400 ms)')])
  t.equal(body.data.sightings.count, 2, 'what MUTEX found is kept')
  t.ok(elapsed >= 350 && elapsed < 3000, `answered after the deadline, not much later (${elapsed} ms)`)

  sim.reset()
  sim.inject({ hang: true }, 1, 'auth')
  t.same((await health()).errors, [fatal('timeout', 'Qualys IOC did not answer in time (limit 400 ms)')], 'a hanging login')
  sim.reset()
  t.same(await health(), { data: { status: 'ok' } }, 'healthy afterwards')
})

t.test('connection refused', async (t) => {
  const closed = http.createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
  await new Promise((resolve) => closed.close(resolve))
  const { app } = await build(t, { API_URL: url })
  const res = await app.inject({ method: 'POST', url: '/health', headers: bearer(hsToken(DEMO)) })
  t.same(res.json(), { errors: [fatal('connection error', `Unable to connect Qualys IOC, validate the configured API URL: ${url}`)] })
})

t.test('one login per credential: 20 sequential and 20 concurrent requests', async (t) => {
  const sim = await withSimulator(t)
  const { observe } = await relay(t, sim, { QUALYS_CONCURRENCY: '2' })
  const counts = (body: any) => body.errors ?? body.data.sightings.docs.map((d: any) => d.observables[0].type).join(',')
  const sequential = []
  for (let i = 0; i < 20; i++) sequential.push(counts(await observe([MUTEX])))
  t.same(sequential, Array(20).fill('mutex,mutex'), 'each sequential answer: MUTEX’s two sightings, no error')
  t.equal(sim.counters.logins, 1, 'sequential')
  const fresh = await withSimulator(t)
  const other = await relay(t, fresh, { QUALYS_CONCURRENCY: '2' })
  const concurrent = await Promise.all(Array.from({ length: 20 }, () => other.observe([MUTEX, IP])))
  t.same(concurrent.map(counts), Array(20).fill('mutex,mutex,ip'), 'each concurrent answer: both observables’ sightings, no error')
  t.equal(fresh.counters.logins, 1, 'concurrent requests share one login')
  t.equal(eventCalls(fresh).length, 80)
})

t.test('a 401 from events causes one new login and one retry', async (t) => {
  const sim = await withSimulator(t)
  const { observe } = await relay(t, sim)
  await observe([MUTEX])
  sim.expireTokens()
  sim.reset()
  const body = await observe([MUTEX])
  t.notOk(body.errors)
  t.equal(body.data.sightings.count, 2)
  t.equal(sim.counters.logins, 1, 'one new login')
  t.same(eventCalls(sim).map((c) => c.status), [401, 200, 200])
})

t.test('a 401 that persists after the refresh ends the request’s calls', async (t) => {
  const sim = await withSimulator(t)
  const { observe } = await relay(t, sim)
  sim.inject({ status: 401, body: '{"message":"Token revoked"}' }, 2)
  const body = await observe([MUTEX, IP])
  t.same(body, { errors: [fatal('authorization error', 'Authorization failed: Token revoked')] })
  t.equal(sim.counters.logins, 2, 'the first login and one refresh, no more')
  t.equal(eventCalls(sim).length, 2, 'no call after the refresh failed')
})

t.test('two credentials used concurrently never see each other’s token', async (t) => {
  const sim = await withSimulator(t, { accounts: { alice: 'alice-pw', bob: 'bob-pw' } })
  const { observe } = await relay(t, sim, { QUALYS_CONCURRENCY: '2', LOOKUP_CACHE_TTL_S: '60' })
  const alice = { user: 'alice', pass: 'alice-pw' }
  const bob = { user: 'bob', pass: 'bob-pw' }
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    i % 2 === 0 ? observe([MUTEX], alice) : observe([IP], bob)))
  t.ok(answers.every((a) => a.errors === undefined))
  t.equal(sim.counters.logins, 2)
  const calls = eventCalls(sim)
  t.ok(calls.length >= 4)
  for (const c of calls) {
    const expected = c.filter?.startsWith('handle.name') === true ? 'alice' : 'bob'
    t.equal(c.user, expected, `${c.filter} carried ${expected}'s token`)
  }
  t.same(answers[1].data.sightings.docs[0].observables, [IP], 'bob gets his own lookups, never alice’s cached ones')
})

t.test('one failing observable keeps the other observables’ documents', async (t) => {
  const sim = await withSimulator(t)
  const { observe } = await relay(t, sim)
  sim.inject({ status: 500, body: 'Internal server error' }) // MUTEX Active
  const body = await observe([MUTEX, IP, { type: 'domain', value: 'tor-exit.example-relay.net' }])
  t.same(body.errors, [fatal('unknown', 'Unexpected response from Qualys IOC: Internal server error')], 'the error once')
  t.same(body.data.sightings.docs.map((d: { observables: unknown[], data: { rows: string[][] } }) => [d.observables[0], d.data.rows[0]]),
    [[MUTEX, ['False']], [IP, ['True']], [{ type: 'domain', value: 'tor-exit.example-relay.net' }, ['False']]],
    'the other observables, and the same observable’s other state')
  t.same(ctimErrors(body.data), [])
})

t.test('values that cannot be quoted are not sent; others are', async (t) => {
  const sim = await withSimulator(t)
  const { observe } = await relay(t, sim)
  const body = await observe([{ type: 'file_name', value: 'evil" or file.name: "x' }, { type: 'mutex', value: 'a`b' }, MUTEX])
  t.same(body.errors, [
    { type: 'warning', code: 'invalid argument', message: 'The file name "evil\\" or file.name: \\"x" contains " or `, which Qualys IOC queries cannot quote safely: it was not looked up' },
    { type: 'warning', code: 'invalid argument', message: 'The mutex "a`b" contains " or `, which Qualys IOC queries cannot quote safely: it was not looked up' }
  ])
  t.equal(body.data.sightings.count, 2)
  t.ok(eventCalls(sim).every((c) => c.filter === 'handle.name: "MSFTHISTORY!"'))
})

t.test('token API_URL: allowed hosts only, checked before any connection', async (t) => {
  const sim = await withSimulator(t)
  const other = await withSimulator(t)
  const { observe, health } = await relay(t, sim)
  const refused = (host: string) => ({ errors: [fatal('authorization error', `Authorization failed: API_URL host ${host} is not allowed`)] })
  t.same(await observe([MUTEX], { ...DEMO, API_URL: other.url }), refused(new URL(other.url).host))
  t.same(await health({ ...DEMO, API_URL: 'https://gateway.qg1.apps.qualys.com.evil.example' }), refused('gateway.qg1.apps.qualys.com.evil.example'))
  t.same(await health({ ...DEMO, API_URL: 'https://user@gateway.qg1.apps.qualys.com' }), refused('gateway.qg1.apps.qualys.com'))
  t.same(await health({ ...DEMO, API_URL: 'http://gateway.qg1.apps.qualys.com' }), refused('gateway.qg1.apps.qualys.com'))
  t.same(await health({ ...DEMO, API_URL: 'https://gateway.qg1.apps.qualys.com:8443' }), refused('gateway.qg1.apps.qualys.com:8443'))
  t.same(await health({ ...DEMO, API_URL: 'file:///etc/passwd' }), refused(''))
  t.equal(other.calls.length, 0, 'no connection to the refused host')
  t.same(await health({ ...DEMO, API_URL: `${sim.url}/` }), { data: { status: 'ok' } }, 'the environment API_URL origin is allowed')

  const allowing = await relay(t, sim, { QUALYS_HOSTS: `gateway.qg2.apps.qualys.com,${other.url}` })
  t.same(await allowing.health({ ...DEMO, API_URL: other.url }), { data: { status: 'ok' } }, 'an origin listed in QUALYS_HOSTS')
})

t.test('no API URL anywhere', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: [MUTEX] })
  t.same(res.json(), { errors: [fatal('invalid argument', 'API_URL is missing: set API_URL in the environment or in the token')] })
})

t.test('the per-credential cap on calls in flight, lowered by X-Concurrency-Limit-Limit', async (t) => {
  const sim = await withSimulator(t, { latencyMs: 30 })
  const { observe } = await relay(t, sim, { QUALYS_CONCURRENCY: '2' })
  const many = ['a', 'b', 'c', 'd', 'e', 'f'].map((v) => ({ type: 'mutex', value: v }))
  await observe(many)
  t.equal(sim.counters.maxInFlight, 2, 'QUALYS_CONCURRENCY')

  const limited = await withSimulator(t, { latencyMs: 30, concurrencyLimitHeader: 1 })
  const r = await relay(t, limited, { QUALYS_CONCURRENCY: '4' })
  await r.observe([MUTEX])
  limited.reset()
  await r.observe(many)
  t.equal(limited.counters.maxInFlight, 1, 'lowered to what Qualys says')
})

t.test('health: ok after a real login and a one-event Active call', async (t) => {
  const sim = await withSimulator(t)
  const { health } = await relay(t, sim, { LOOKUP_CACHE_TTL_S: '60' })
  t.same(await health(), { data: { status: 'ok' } })
  t.same(await health(), { data: { status: 'ok' } })
  t.equal(sim.counters.logins, 2, 'every health check proves the password with a login')
  t.same(eventCalls(sim).map((c) => [c.pageSize, c.state, c.filter]), [[1, 'true', undefined], [1, 'true', undefined]], 'and is never served from cache')
  sim.inject({ status: 503 }, 4)
  t.same(await health(), { errors: [fatal('service unavailable', 'Service temporarily unavailable. Please try again later.')] })
})

t.test('the lookup cache: keyed by credentials, off with a TTL of 0', async (t) => {
  const sim = await withSimulator(t, { accounts: { demo: 'demo-password', eve: 'eve-pw' } })
  const { observe } = await relay(t, sim, { LOOKUP_CACHE_TTL_S: '60' })
  const first = await observe([MUTEX])
  const again = await observe([MUTEX])
  t.equal(eventCalls(sim).length, 2, 'the second request is served from the cache')
  t.same(again.data.sightings.docs.map((d: { external_ids: string[] }) => d.external_ids), first.data.sightings.docs.map((d: { external_ids: string[] }) => d.external_ids))
  await observe([MUTEX], { user: 'eve', pass: 'eve-pw' })
  t.equal(eventCalls(sim).length, 4, 'another credential never reads it')
})

t.test('identical lookups under way at once share one call (cache on), never across credentials', async (t) => {
  const sim = await withSimulator(t, { latencyMs: 50, accounts: { demo: 'demo-password', eve: 'eve-pw' } })
  const { observe } = await relay(t, sim, { LOOKUP_CACHE_TTL_S: '60', QUALYS_CONCURRENCY: '2' })
  await observe([IP]) // log in
  sim.reset()
  const answers = await Promise.all(Array.from({ length: 20 }, () => observe([MUTEX])))
  t.ok(answers.every((a) => a.data.sightings.count === 2))
  t.equal(eventCalls(sim).length, 2, '20 identical requests: one Active and one Historical call')
  sim.reset()
  await Promise.all([observe([{ type: 'domain', value: 'x.example' }]), observe([{ type: 'domain', value: 'x.example' }], { user: 'eve', pass: 'eve-pw' })])
  t.same(eventCalls(sim).map((c) => c.user).sort(), ['demo', 'demo', 'eve', 'eve'], 'each credential makes its own calls')
})

t.test('with the cache off, every request asks Qualys', async (t) => {
  const sim = await withSimulator(t, { latencyMs: 30 })
  const { observe } = await relay(t, sim, { LOOKUP_CACHE_TTL_S: '0', QUALYS_CONCURRENCY: '4' })
  const bodies = await Promise.all(Array.from({ length: 5 }, () => observe([MUTEX])))
  t.ok(bodies.every((b) => b.errors === undefined && b.data.sightings.count === 2), 'every answer complete')
  t.equal(eventCalls(sim).length, 10)
})

// openssl makes the self-signed certificate (Node cannot mint one): gated like the other suites
// that need a program outside npm.
withPrograms(t, [PROGRAMS.openssl], 'a Qualys certificate that does not verify: unknown, "Unable to verify SSL certificate"', async (t, paths) => {
  const { execFileSync } = await import('node:child_process')
  const { mkdtempSync, readFileSync } = await import('node:fs')
  const https = await import('node:https')
  const os = await import('node:os')
  const path = await import('node:path')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-tls-'))
  execFileSync(paths.openssl as string, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' })
  let requests = 0
  const server = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
    (_req, res) => { requests++; res.writeHead(201).end('token') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const apiUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const { app } = await build(t, { API_URL: apiUrl })
  const res = await app.inject({ method: 'POST', url: '/health', headers: bearer(hsToken(DEMO)) })
  t.match(res.json(), { errors: [{ type: 'fatal', code: 'unknown', message: /^Unable to verify SSL certificate: .*self[- ]signed/i }] })
  t.equal(requests, 0, 'nothing was sent over the unverified connection')
})

t.test('a bug inside a lookup is logged at error level, scrubbed, and answered generically', async (t) => {
  const sim = await withSimulator(t)
  // The lookup cache's store fails with a programming error (not a RelayError) for one observable.
  const { app, logs } = await build(t, { API_URL: sim.url, QUALYS_BATCH: 'off' }, (f) => {
    const answers = f.state.answers
    f.state.answers = {
      get: async (credential, key) => {
        if (key.includes('MSFTHISTORY')) throw new TypeError(`cannot read x of undefined near ${DEMO.pass}`)
        return answers.get(credential, key)
      },
      set: answers.set
    }
  })
  const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: [MUTEX, IP] })
  const body = res.json()
  t.same(body.errors, [fatal('unknown', 'Unexpected error while calling Qualys IOC')], 'answered generically, once')
  t.same(body.data.sightings.docs.map((d: { observables: unknown[] }) => d.observables[0]), [IP], 'the other observable is kept')
  const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'unexpected error during a Qualys lookup')
  t.ok(line, 'the bug is logged')
  t.equal(line?.level, 50, 'at error level')
  t.ok(typeof line?.reqId === 'string', 'with the request’s logger')
  t.equal(line?.error.type, 'TypeError')
  t.equal(line?.error.message, 'cannot read x of undefined near [redacted]', 'the password is scrubbed')
  t.notOk(logs.some((l) => l.includes(DEMO.pass)))
})

t.test('X-ConcurrencyLimit-Limit, the gateway page\'s spelling, lowers the cap as well', async (t) => {
  const sim = await withSimulator(t, { latencyMs: 30, concurrencyLimitHeader: 1, concurrencyHeaderName: 'x-concurrencylimit-limit' })
  const { observe } = await relay(t, sim, { QUALYS_CONCURRENCY: '4' })
  await observe([MUTEX])
  sim.reset()
  await observe(['a', 'b', 'c', 'd'].map((v) => ({ type: 'mutex', value: v })))
  t.equal(sim.counters.maxInFlight, 1)
})

t.test('a 400: "no events" for an observable, but logged with Qualys\' message and counted; on the health query an error', async (t) => {
  const sim = await withSimulator(t)
  const { observe, health, logs } = await relay(t, sim)
  sim.inject({ status: 400, body: '{"message":"Unknown field handle.nme"}' })
  const body = await observe([MUTEX])
  t.equal(body.data.sightings.count, 1, 'Active refused (no events), Historical found one')
  t.notOk(body.errors)
  t.ok(logs.some((l) => l.includes('"level":40') && l.includes('Unknown field handle.nme') && l.includes('Qualys refused a query (400)')), 'a warning with Qualys\' message')
  sim.inject({ status: 400, body: '{"message":"Invalid QQL"}' })
  t.same(await health(), { errors: [fatal('unknown', 'Unexpected response from Qualys IOC: Invalid QQL')] }, 'health is not ok')
})

t.test('every call asks at most 1,000 events; a larger limit pages with pageNumber', async (t) => {
  const many = Array.from({ length: 2500 }, (_, i) => ({ id: `F_${i}`, type: 'FILE', dateTime: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString().replace('Z', '+0000'), handle: { name: 'NOISY' } }))
  const sim = await withSimulator(t, { fixtures: { active: many, historical: [] } })
  const { observe } = await relay(t, sim)
  const body = await observe([{ type: 'mutex', value: 'NOISY' }], { ...DEMO, CTR_ENTITIES_LIMIT: 5000 })
  t.equal(body.data.sightings.count, 2500, 'all of them, newest first')
  t.equal(body.data.sightings.docs[0].external_ids[0], 'F_2499')
  t.same(eventCalls(sim).map((c) => `${c.state ?? '-'} ${c.pageSize} ${c.pageNumber}`), ['true 1000 0', 'true 1000 1', 'true 1000 2', '- 1000 0'],
    'pages of 1,000: three for Active (the last short), then Historical for the room left (none there)')
})
