import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { readEgress } from '../../lib/egress.js'
import { freePort } from '../../scripts/free-port.js'
import { bearer, build, DEMO, hsToken, normaliseIds, registerSecret, ROOT, SECRET_KEY, spawnTs, startJwks, startSimulator, withSimulator } from '../helper.js'
import { fakeProxy, startTinyproxy, testCa } from '../helpers/proxy.js'
import { PROGRAMS, withPrograms } from '../system.js'

// Behind an egress proxy (lib/egress.ts, plugins/app/egress.ts): every Qualys call and login goes
// through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY names the host; the proxy's refusals and
// failures are errors of their own, within the deadline, never with its password.

const PROXY_PASSWORD = 'pr0xy-Secret-9f3a'
registerSecret(PROXY_PASSWORD)
const token = bearer(hsToken(DEMO))
const EXAMPLES = JSON.parse(readFileSync(path.join(ROOT, 'examples/observables.json'), 'utf8')) as Array<{ type: string, value: string }>
const SHA = { type: 'sha256', value: '4ad5e3c4ea0b3a8c84a5ba9ec4e8f0cd1cd26fbb54e1e01b54b0e6e0cc9a0f34' }

t.test('the variables: lower case first, empty as unset, HTTP_PROXY for https when HTTPS_PROXY is unset, NO_PROXY as undici reads it', async (t) => {
  const both = readEgress({ https_proxy: 'http://a:3128', HTTPS_PROXY: 'http://b:3128', HTTP_PROXY: 'http://c:8080' })
  t.equal(both.https?.host, 'a:3128', 'https_proxy before HTTPS_PROXY')
  t.equal(both.http?.host, 'c:8080')
  t.equal(readEgress({ https_proxy: '', HTTPS_PROXY: 'http://b:3128' }).https?.host, 'b:3128', 'an empty lower-case value is unset')
  t.equal(readEgress({ HTTP_PROXY: 'http://c:8080' }).proxyFor('https://gateway.qg2.apps.qualys.com')?.host, 'c:8080', 'https falls back to HTTP_PROXY')
  t.equal(readEgress({ HTTPS_PROXY: 'http://b:3128' }).proxyFor('http://127.0.0.1:9'), undefined, 'http is direct without HTTP_PROXY')
  t.equal(readEgress({}).proxyFor('https://gateway.qg2.apps.qualys.com'), undefined, 'nothing set: direct')
  t.equal(readEgress({}).describe(), 'direct (no HTTPS_PROXY or HTTP_PROXY)')

  const cases: Array<[string, string, boolean]> = [ // NO_PROXY, URL, proxied?
    ['qualys.com', 'https://gateway.qg2.apps.qualys.com', false],
    ['.qualys.com', 'https://gateway.qg2.apps.qualys.com', false],
    ['*.qualys.com', 'https://qualys.com', true],
    ['*.qualys.com', 'https://gateway.qualys.com', false],
    ['gateway.qg2.apps.qualys.com:443', 'https://gateway.qg2.apps.qualys.com', false],
    ['gateway.qg2.apps.qualys.com:8443', 'https://gateway.qg2.apps.qualys.com', true],
    ['10.0.0.5', 'https://10.0.0.5:8443', false],
    ['[::1]:443', 'https://[::1]', false],
    ['*', 'https://anything.example', false],
    ['example.com, internal.corp', 'https://gateway.qg2.apps.qualys.com', true],
    ['notqualys.com', 'https://qualys.com', true]
  ]
  for (const [noProxy, url, proxied] of cases) {
    t.equal(readEgress({ HTTPS_PROXY: 'http://p:3128', NO_PROXY: noProxy }).proxyFor(url) !== undefined, proxied, `NO_PROXY=${noProxy}, ${url}: ${proxied ? 'proxied' : 'direct'}`)
  }
  const shown = readEgress({ HTTPS_PROXY: `http://relay:${PROXY_PASSWORD}@proxy.corp:3128` })
  t.equal(shown.https?.shown, 'http://relay:***@proxy.corp:3128', 'the password replaced')
  t.notMatch(shown.describe(), PROXY_PASSWORD)
})

t.test('a malformed proxy URL refuses to start with one line naming the variable, without the password', async (t) => {
  for (const [variable, value] of [['HTTPS_PROXY', 'proxy.corp:3128'], ['https_proxy', `ftp://relay:${PROXY_PASSWORD}@proxy.corp:21`],
    ['HTTP_PROXY', `http://relay:${PROXY_PASSWORD}@proxy.corp:3128/path`], ['HTTPS_PROXY', 'http://']] as const) {
    const relay = spawnTs(t, 'server.ts', { PORT: '0', SECRET_KEY, [variable]: value, LOG_LEVEL: 'silent' })
    t.equal(await relay.exited, 1, `${variable}=${value.replace(PROXY_PASSWORD, '…')}: exit 1`)
    const out = relay.output().trim()
    t.equal(out.split('\n').length, 1, 'one line')
    t.match(out, new RegExp(`^qualys-ioc-relay: configuration error: env/${variable} must be a proxy URL such as http://proxy\\.example\\.com:3128`))
    t.notMatch(out, PROXY_PASSWORD, 'no password')
  }
  const off = spawnTs(t, 'server.ts', { PORT: '0', SECRET_KEY, NODE_TLS_REJECT_UNAUTHORIZED: '0', LOG_LEVEL: 'silent' })
  t.equal(await off.exited, 1, 'certificate checks switched off: refused')
  t.match(off.output(), /^qualys-ioc-relay: configuration error: env\/NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate checks off/)
})

// What an observe and a /health answer through a proxy that refuses, fails or hangs.
async function throughBad (t: Parameters<typeof build>[0], proxyUrl: string, env: Record<string, string> = {}) {
  const metricsPort = await freePort()
  const { app, logs } = await build(t, {
    API_URL: 'https://127.0.0.1:9', HTTPS_PROXY: proxyUrl, QUALYS_CONNECT_TIMEOUT_MS: '1000', QUALYS_DEADLINE_MS: '6000', METRICS_PORT: String(metricsPort), ...env
  })
  const started = performance.now()
  const observed = (await app.inject({ method: 'POST', url: '/observe/observables', headers: token, payload: [SHA] })).json()
  const ms = performance.now() - started
  const health = (await app.inject({ method: 'POST', url: '/health', headers: token })).json()
  const metrics = await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text()
  return { observed, health, ms, logs, metrics }
}

t.test('a proxy that refuses or fails: its own error in the envelope, within the deadline, on /health too', async (t) => {
  const auth = await fakeProxy(t, { answer: 407 })
  const withAuth = await throughBad(t, auth.url(`relay:${PROXY_PASSWORD}`))
  const refused = `Unable to connect Qualys IOC: the egress proxy refused the relay's credentials (407 from ${auth.host}): check the user and password in HTTPS_PROXY`
  t.same(withAuth.observed.errors, [{ type: 'fatal', code: 'connection error', message: refused }], '407: the egress proxy refused the relay\'s credentials')
  t.same(withAuth.health.errors, [{ type: 'fatal', code: 'connection error', message: refused }], '/health red, naming the proxy')
  t.match(auth.seen[0]?.auth, /^Basic /, 'Basic credentials sent to the proxy')
  t.equal(Buffer.from((auth.seen[0]?.auth ?? '').slice(6), 'base64').toString(), `relay:${PROXY_PASSWORD}`, '…as user:password')

  for (const status of [403, 502]) {
    const proxy = await fakeProxy(t, { answer: status })
    const { observed, health } = await throughBad(t, proxy.url())
    const message = `Unable to connect Qualys IOC: the egress proxy ${proxy.host} refused the tunnel to 127.0.0.1:9 (${status})`
    t.same(observed.errors, [{ type: 'fatal', code: 'connection error', message }], `${status}: refused the tunnel`)
    t.same(health.errors?.[0]?.message, message, `${status}: /health red`)
    t.equal(proxy.seen.filter((s) => s.target === '127.0.0.1:9').length >= 2, true, 'CONNECT asked for the API host')
  }

  const hanging = await fakeProxy(t, { hang: true })
  const hung = await throughBad(t, hanging.url())
  t.same(hung.observed.errors, [{ type: 'fatal', code: 'connection error', message: `Unable to connect Qualys IOC through the egress proxy ${hanging.host}: no answer to CONNECT within QUALYS_CONNECT_TIMEOUT_MS` }], 'a proxy that never answers CONNECT')
  t.ok(hung.ms >= 900 && hung.ms < 5500, `answered after the connect timeout (1 s), before the deadline (6 s): ${Math.round(hung.ms)} ms`)
  t.match(hung.health.errors?.[0]?.message, new RegExp(`egress proxy ${hanging.host}: no answer to CONNECT`), '/health red, naming the proxy host')

  const closedPort = await freePort()
  const down = await throughBad(t, `http://relay:${PROXY_PASSWORD}@127.0.0.1:${closedPort}`)
  const message = `Unable to connect Qualys IOC through the egress proxy 127.0.0.1:${closedPort}: it refused the connection`
  t.same(down.observed.errors, [{ type: 'fatal', code: 'connection error', message }], 'a proxy that is down')
  t.same(down.health.errors?.[0]?.message, message, '/health red, naming the proxy host')

  for (const { observed, health, logs, metrics } of [withAuth, hung, down]) {
    t.notMatch(JSON.stringify([observed, health, logs]), PROXY_PASSWORD, 'the proxy\'s password in no answer and no log line')
    t.notMatch(metrics, PROXY_PASSWORD, '…and in no metric')
    t.match(metrics, /^relay_qualys_calls_total\{outcome="network_error"\} [1-9]/m, 'counted as network errors')
  }
  t.ok(down.logs.some((l) => /"proxy":"127\.0\.0\.1:\d+"/.test(l) && /network error/.test(l)), 'the warning names the proxy host')
})

t.test('NO_PROXY bypasses the proxy: the host, host:port, *; another entry does not', async (t) => {
  const sim = await withSimulator(t)
  const proxy = await fakeProxy(t, { answer: 403 })
  const port = new URL(sim.url).port
  for (const [noProxy, bypassed] of [['127.0.0.1', true], [`127.0.0.1:${port}`, true], ['*', true], ['example.com', false], ['127.0.0.1:1', false]] as const) {
    // http API URLs go through HTTP_PROXY; the simulator answers only what bypasses it.
    const { app } = await build(t, { API_URL: sim.url, HTTP_PROXY: proxy.url(), NO_PROXY: noProxy })
    const body = (await app.inject({ method: 'POST', url: '/observe/observables', headers: token, payload: [SHA] })).json()
    if (bypassed) t.equal(body.errors, undefined, `NO_PROXY=${noProxy}: direct, answered`)
    else t.ok(body.errors !== undefined, `NO_PROXY=${noProxy}: through the proxy (which answers 501 to a forwarded request)`)
  }
})

withPrograms(t, [PROGRAMS.tinyproxy, PROGRAMS.openssl], 'through a real tinyproxy to Qualys over TLS with a private CA: the same CTIM and calls, each tunnel in its log', async (t, paths) => {
  const ca = testCa(t, paths.openssl as string)
  const sim = await startSimulator({ tls: { key: ca.key, cert: ca.cert }, rateLimit: { limit: 300, windowSec: 3600 } })
  t.teardown(() => sim.close())
  const proxy = await startTinyproxy(t, paths.tinyproxy as string, { basicAuth: ['relay', PROXY_PASSWORD] })
  const start = async (env: Record<string, string>) => {
    const port = await freePort()
    const relay = spawnTs(t, 'server.ts', { PORT: String(port), HOST: '127.0.0.1', API_URL: sim.url, SECRET_KEY, LOG_LEVEL: 'info', QUALYS_BATCH: 'per-type', ...env })
    await relay.waitFor(/Server listening/)
    const url = `http://127.0.0.1:${port}`
    const post = async (path: string, body?: unknown) => {
      const res = await request(`${url}${path}`, { method: 'POST', headers: { ...token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
      return await res.body.json() as { data?: unknown, errors?: Array<{ code: string, message: string }> }
    }
    return { relay, post, stop: () => { relay.child.kill('SIGKILL') } }
  }
  const observables = EXAMPLES

  // Direct (the CA given, no proxy): the baseline of answers and Qualys calls.
  const direct = await start({ NODE_EXTRA_CA_CERTS: ca.caFile })
  const baseline = await direct.post('/observe/observables', observables)
  t.equal(baseline.errors, undefined, 'direct: no errors')
  const directCalls = sim.calls.map((c) => c.path)
  direct.stop()
  sim.reset()
  const connectionsBefore = sim.connections

  const proxied = await start({ NODE_EXTRA_CA_CERTS: ca.caFile, HTTPS_PROXY: proxy.url(`relay:${PROXY_PASSWORD}`), NO_PROXY: '' })
  const through = await proxied.post('/observe/observables', observables)
  t.equal(through.errors, undefined, 'through the proxy: no errors')
  t.same(normaliseIds(through.data), normaliseIds(baseline.data), 'the same CTIM as direct')
  t.same(sim.calls.map((c) => c.path).sort(), [...directCalls].sort(), `the same Qualys calls as direct (${directCalls.length}, the login included): the same budget`)
  const tunnels = proxy.connects()
  t.ok(tunnels.length >= 1, `${tunnels.length} CONNECT tunnels in tinyproxy's log`)
  t.ok(tunnels.every((target) => target === new URL(sim.url).host), 'each to the Qualys API host')
  t.equal(sim.connections - connectionsBefore, tunnels.length, 'every connection Qualys accepted came through one of them: every call and login went through the proxy')

  // The proxy stopped mid-run: the proxy's error, /health red; started again: the relay recovers.
  await proxy.stop()
  const fresh = [{ type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' }] // not asked yet: nothing cached
  const whileDown = await proxied.post('/observe/observables', fresh)
  t.match(whileDown.errors, [{ code: 'connection error', message: `Unable to connect Qualys IOC through the egress proxy 127.0.0.1:${proxy.port}: it refused the connection` }], 'proxy down: its error')
  const red = await proxied.post('/health')
  t.match(red.errors?.[0]?.message, new RegExp(`egress proxy 127\\.0\\.0\\.1:${proxy.port}`), '/health red, naming the proxy host')
  await proxy.start()
  const back = await proxied.post('/observe/observables', fresh)
  t.equal(back.errors, undefined, 'the proxy back: answered again')
  t.notMatch(proxied.relay.output(), PROXY_PASSWORD, 'the password in no log line')
  t.match(proxied.relay.output(), /"egress":"https through http:\/\/relay:\*\*\*@127\.0\.0\.1:\d+[^"]*","msg":"outbound requests go through the egress proxy"/, 'the start-up line shows the proxy, its password replaced')
  proxied.stop()

  // A wrong password: tinyproxy refuses CONNECT (it answers 401 where others answer 407).
  const wrong = await start({ NODE_EXTRA_CA_CERTS: ca.caFile, HTTPS_PROXY: proxy.url('relay:not-the-password') })
  const refused = await wrong.post('/observe/observables', [SHA])
  t.match(refused.errors, [{ code: 'connection error', message: /^Unable to connect Qualys IOC: the egress proxy refused the relay's credentials \((401|407) from 127\.0\.0\.1:\d+\): check the user and password in HTTPS_PROXY$/ }])
  wrong.stop()

  // The CA is trusted only through NODE_EXTRA_CA_CERTS: without it, the certificate does not verify.
  const untrusted = await start({ HTTPS_PROXY: proxy.url(`relay:${PROXY_PASSWORD}`) })
  const unverified = await untrusted.post('/observe/observables', [SHA])
  t.match(unverified.errors, [{ code: 'unknown', message: /^Unable to verify SSL certificate: / }], 'no NODE_EXTRA_CA_CERTS: the private CA is not trusted')
  untrusted.stop()
})

withPrograms(t, [PROGRAMS.tinyproxy], 'plain http through a real tinyproxy: each Qualys request and an RS256 token\'s JWKS fetch in its log', async (t, paths) => {
  const sim = await withSimulator(t)
  const proxy = await startTinyproxy(t, paths.tinyproxy as string)
  const jwks = await startJwks(t)
  const aud = 'http://relay.local:9090'
  const { app } = await build(t, { API_URL: sim.url, HTTP_PROXY: proxy.url(), QUALYS_BATCH: 'off', JWKS_HOSTS: jwks.origin, PUBLIC_URL: aud })
  const rs256 = bearer(jwks.sign({ ...DEMO, jwks_host: jwks.host, aud }))
  const body = (await app.inject({ method: 'POST', url: '/observe/observables', headers: rs256, payload: EXAMPLES.slice(0, 4) })).json()
  t.equal(body.errors, undefined, 'an RS256 configuration token, its key fetched through the proxy')
  t.equal(jwks.requests, 1, 'one JWKS fetch')
  const forwarded = proxy.forwarded()
  t.same(forwarded.filter((target) => target.startsWith(jwks.origin)), [`${jwks.origin}/.well-known/jwks`], 'the JWKS fetch went through the proxy')
  const api = forwarded.filter((target) => target.startsWith(sim.url)).map((target) => target.slice(sim.url.length))
  t.equal(api.length, sim.calls.length, `every request Qualys saw (${sim.calls.length}, the login included) is in the proxy's log`)
  t.same(api.sort(), sim.calls.map((c) => c.target).sort(), 'the same requests')

  // NO_PROXY naming the API host: the same observe goes direct, and tinyproxy sees nothing more.
  const seen = proxy.forwarded().length
  const before = sim.calls.length
  const direct = await build(t, { API_URL: sim.url, HTTP_PROXY: proxy.url(), NO_PROXY: `localhost,127.0.0.1:${new URL(sim.url).port}`, QUALYS_BATCH: 'off' })
  const bypassed = (await direct.app.inject({ method: 'POST', url: '/observe/observables', headers: token, payload: EXAMPLES.slice(0, 4) })).json()
  t.equal(bypassed.errors, undefined)
  t.ok(sim.calls.length > before, 'Qualys answered')
  t.equal(proxy.forwarded().length, seen, 'NO_PROXY: nothing went through tinyproxy')
})

withPrograms(t, [PROGRAMS.openssl], 'a proxy that drops its tunnels while a call is answered: what was already answered is kept', async (t, paths) => {
  const ca = testCa(t, paths.openssl as string)
  const sim = await startSimulator({ tls: { key: ca.key, cert: ca.cert } })
  t.teardown(() => sim.close())
  const MUTEX = { type: 'mutex', value: 'MSFTHISTORY' }
  let hung = false // the mutex's first call (Active) hangs; the rest are answered
  sim.rule = (call) => {
    if (hung || call.filter?.includes(MUTEX.value) !== true) return undefined
    hung = true
    return { hang: true }
  }
  const proxy = await fakeProxy(t, { tunnel: true })
  const port = await freePort()
  const relay = spawnTs(t, 'server.ts', {
    PORT: String(port),
    HOST: '127.0.0.1',
    API_URL: sim.url,
    SECRET_KEY,
    LOG_LEVEL: 'info',
    QUALYS_BATCH: 'off',
    NODE_EXTRA_CA_CERTS: ca.caFile,
    HTTPS_PROXY: proxy.url(),
    QUALYS_DEADLINE_MS: '20000'
  })
  await relay.waitFor(/Server listening/)
  const others = EXAMPLES.filter((o) => o.type === 'sha256' || o.type === 'ip')
  const answer = request(`http://127.0.0.1:${port}/observe/observables`, {
    method: 'POST', headers: { ...token, 'content-type': 'application/json' }, body: JSON.stringify([...others, MUTEX])
  }).then(async (res) => await res.body.json() as { data: { sightings?: { docs: Array<{ observables: Array<{ value: string }> }> } }, errors?: Array<{ code: string, message: string }> })
  // Wait until every other observable's calls (Active, Historical) are answered and the mutex's hangs.
  const answered = () => sim.calls.filter((c) => c.path !== 'auth' && c.status === 200 && c.filter?.includes(MUTEX.value) !== true).length
  for (let i = 0; i < 200 && (answered() < 2 * others.length || !sim.calls.some((c) => c.filter?.includes(MUTEX.value) === true)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  t.equal(answered(), 2 * others.length, 'the other observables were answered through the tunnel')
  const started = performance.now()
  proxy.dropTunnels()
  const body = await answer
  t.ok(performance.now() - started < 5000, 'answered soon after the drop, not at the deadline')
  t.same(body.errors, [{ type: 'fatal', code: 'connection error', message: `Unable to connect Qualys IOC through the egress proxy ${proxy.host}: it closed the connection` }], 'the dropped call: the proxy\'s error')
  const seen = new Set((body.data.sightings?.docs ?? []).map((d) => d.observables[0]?.value))
  for (const o of others) t.ok(seen.has(o.value), `${o.type} ${o.value.slice(0, 12)}…: its sightings kept`)
})
