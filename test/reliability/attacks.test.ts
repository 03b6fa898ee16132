import net, { type AddressInfo } from 'node:net'
import t from 'tap'
import { request } from 'undici'
import { bearer, build, DEMO, hsToken, startJwks, withSimulator } from '../helper.js'

const wrongHost = 'Authorization failed: Wrong jwks_host in JWT payload. Make sure domain follows the visibility.<region>.cisco.com structure'

// A TCP server that only counts connections: proof that nothing was attempted.
async function tripwire (t: any) {
  const counter = { connections: 0, port: 0 }
  const server = net.createServer((socket) => { counter.connections++; socket.destroy() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  counter.port = (server.address() as AddressInfo).port
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return counter
}

t.test('jwks_host variants that are not exactly an allowed entry: refused, no request anywhere', async (t) => {
  const jwks = await startJwks(t)
  const trap = await tripwire(t)
  const { app } = await build(t, { JWKS_HOSTS: `visibility.amp.cisco.com,${jwks.origin}` })
  const port = jwks.host.split(':')[1]
  const variants = [
    `user@${jwks.host}`, `${jwks.host}@127.0.0.1:${trap.port}`, `127.0.0.1:${trap.port}`, '127.0.0.1', `localhost:${port}`,
    `[::1]:${port}`, `2130706433:${port}`, `0x7f.0.0.1:${port}`, `${jwks.host}/.well-known/jwks?x=`, `${jwks.host}.`, `${jwks.host}#`,
    `127.0.0.1%3A${port}`, 'visibility.amp.cisco.com.', 'VISIBILITY.AMP.CISCO.COM', 'visibility.amp.cisco.com.evil.example',
    'evil.example/visibility.amp.cisco.com', 'visibility-amp-cisco.com', 'visibility.amp.cisco.co', 'visibіlity.amp.cisco.com',
    'visibility%2eamp.cisco.com', 'visibility.amp.cisco.com:443', ' visibility.amp.cisco.com', ''
  ]
  for (const host of variants) {
    const token = jwks.sign({ ...DEMO, jwks_host: host, aud: 'http://localhost:80' })
    const res = await app.inject({ method: 'POST', url: '/refer/observables', headers: bearer(token), payload: [] })
    const expected = host === '' ? 'Authorization failed: jwks_host is missing in JWT payload. Make sure custom_jwks_host field is present in module_type' : wrongHost
    t.same(res.json().errors?.[0]?.message, expected, JSON.stringify(host))
  }
  t.equal(jwks.requests, 0, 'the allowed JWKS server was never asked for a look-alike')
  t.equal(trap.connections, 0, 'nor anything else')
})

t.test('oversized tokens and headers', async (t) => {
  const { app } = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/refer/observables`
  const big = hsToken({ ...DEMO, filler: 'x'.repeat(9000) })
  const res = await request(url, { method: 'POST', headers: bearer(big), body: '[]' })
  t.same(await res.body.json(), { errors: [{ type: 'fatal', code: 'authorization error', message: 'Authorization failed: Wrong JWT structure' }] })
  const huge = await request(url, { method: 'POST', headers: bearer('x'.repeat(20000)), body: '[]' })
  t.equal(huge.statusCode, 431)
  t.same(await huge.body.json(), { code: 431, message: 'Request Header Fields Too Large', reason: 'The request headers are larger than the relay accepts.' })
  const after = await request(url.replace('/refer/observables', '/version'), { method: 'POST' })
  t.same(await after.body.json(), { version: '2.0.0' }, 'still serving')
})

t.test('SSRF through a token API_URL: refused before any connection', async (t) => {
  const sim = await withSimulator(t)
  const trap = await tripwire(t)
  const { app } = await build(t, { API_URL: sim.url })
  const p = trap.port
  const urls = [
    `http://127.0.0.1:${p}`, `https://127.0.0.1:${p}`, `http://localhost:${p}`, `http://[::1]:${p}`, `http://2130706433:${p}`,
    `http://0x7f.0.0.1:${p}`, `http://127.1:${p}`, 'https://10.0.0.1', 'https://169.254.169.254/latest/meta-data', 'https://[fd00::1]',
    'http://gateway.qg1.apps.qualys.com', 'https://gateway.qg1.apps.qualys.com.evil.example',
    'https://gateway.qg1.apps.qualys.com@evil.example', 'https://evil.example#@gateway.qg1.apps.qualys.com',
    'https://evil.example?@gateway.qg1.apps.qualys.com', 'https://evil.example\\@gateway.qg1.apps.qualys.com',
    'https://gateway.qg1.apps.qualys.com%2eevil.example', 'https://gateway.qg1.apps.qualys.com.', 'https://gateway.qg1.apps.qualys.com:8443',
    'https://u:p@gateway.qg1.apps.qualys.com', `${sim.url.replace('127.0.0.1', 'localhost')}`, 'ftp://gateway.qg1.apps.qualys.com',
    'file:///etc/passwd', 'gateway.qg1.apps.qualys.com', 'javascript:alert(1)'
  ]
  for (const apiUrl of urls) {
    for (const route of ['/health', '/observe/observables']) {
      const res = await app.inject({ method: 'POST', url: route, headers: bearer(hsToken({ ...DEMO, API_URL: apiUrl })), payload: [{ type: 'ip', value: '1.1.1.1' }] })
      t.match(res.json(), { errors: [{ type: 'fatal', code: 'authorization error', message: /^Authorization failed: API_URL host .* is not allowed$/ }] }, `${route} ${apiUrl}`)
    }
  }
  t.equal(trap.connections, 0, 'no connection to any of them')
  t.equal(sim.calls.length, 0, 'nor to the configured Qualys')
})

t.test('a redirect from Qualys is never followed', async (t) => {
  const sim = await withSimulator(t)
  const trap = await tripwire(t)
  const { app } = await build(t, { API_URL: sim.url })
  sim.inject({ status: 307, headers: { location: `http://127.0.0.1:${trap.port}/ioc/events` }, body: '' }, 1, 'auth')
  const res = await app.inject({ method: 'POST', url: '/health', headers: bearer(hsToken(DEMO)) })
  t.same(res.json(), { errors: [{ type: 'fatal', code: 'unknown', message: 'Unexpected response from Qualys IOC: HTTP 307' }] })
  sim.inject({ status: 302, headers: { location: `http://127.0.0.1:${trap.port}/steal` }, body: 'Found' })
  const observed = await app.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(DEMO)), payload: [{ type: 'ip', value: '1.1.1.1' }] })
  t.match(observed.json().errors, [{ code: 'unknown', message: 'Unexpected response from Qualys IOC: Found' }])
  t.equal(trap.connections, 0, 'the Location was never visited')
})
