import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createSigner } from 'fast-jwt'
import { bearer, build, hsToken, rawHsToken, SECRET_KEY, startJwks } from '../helper.js'

const USER = { user: 'alice', pass: 's3cr3t' }
const fail = (msg: string) => ({ errors: [{ type: 'fatal', code: 'authorization error', message: `Authorization failed: ${msg}` }] })
const OK = { data: [] }
const now = () => Math.floor(Date.now() / 1000)
const RS = {
  missing: 'jwks_host is missing in JWT payload. Make sure custom_jwks_host field is present in module_type',
  wrongHost: 'Wrong jwks_host in JWT payload. Make sure domain follows the visibility.<region>.cisco.com structure',
  kid: 'kid from JWT header not found in API response',
  signature: 'Failed to decode JWT with provided key. Make sure domain in custom_jwks_host corresponds to your SecureX instance region.'
}

async function refer (app: Awaited<ReturnType<typeof build>>['app'], headers: Record<string, string>, payload: unknown = []) {
  const res = await app.inject({ method: 'POST', url: '/refer/observables', headers: { host: 'relay.local:9090', ...headers }, payload: JSON.stringify(payload) })
  return { status: res.statusCode, body: res.json() }
}

t.test('shared-secret (HS256) mode: every message', async (t) => {
  const { app } = await build(t)
  const cases: Array<[string, Record<string, string>, unknown]> = [
    ['no header', {}, fail('Authorization header is missing')],
    ['Basic scheme', { authorization: 'Basic dXNlcjpwYXNz' }, fail('Wrong authorization type')],
    ['bare Bearer', { authorization: 'Bearer' }, fail('Wrong authorization type')],
    ['Bearer with an empty token', { authorization: 'Bearer ' }, fail('Wrong authorization type')],
    ['extra parts', { authorization: `Bearer ${hsToken(USER)} extra` }, fail('Wrong authorization type')],
    ['not a JWT', bearer('not-a-jwt'), fail('Wrong JWT structure')],
    ['garbage segments', bearer('a.b.c'), fail('Wrong JWT structure')],
    ['alg none', bearer(createSigner({ algorithm: 'none', noTimestamp: true })(USER)), fail('Wrong JWT structure')],
    ['HS512 (unsupported alg)', bearer(createSigner({ key: SECRET_KEY, algorithm: 'HS512', noTimestamp: true })(USER)), fail('Wrong JWT structure')],
    ['wrong key', bearer(hsToken(USER, 'another-secret')), fail('Failed to decode JWT with provided key')],
    ['no user', bearer(hsToken({ pass: 'x' })), fail('Wrong JWT payload structure')],
    ['no pass', bearer(hsToken({ user: 'x' })), fail('Wrong JWT payload structure')],
    ['non-string user', bearer(hsToken({ user: 42, pass: 'x' })), fail('Wrong JWT payload structure')],
    ['expired', bearer(hsToken({ ...USER, exp: now() - 60 })), fail('Token has expired')],
    ['not yet valid', bearer(hsToken({ ...USER, nbf: now() + 3600 })), fail('Token is not yet valid')],
    ['non-numeric exp', bearer(rawHsToken({ ...USER, exp: 'tomorrow' })), fail('Wrong JWT structure')],
    ['wrong aud', bearer(hsToken({ ...USER, aud: 'https://elsewhere.example' })), fail('Wrong configuration-token-audience')],
    ['expired beats wrong aud', bearer(hsToken({ ...USER, aud: 'https://x.example', exp: now() - 60 })), fail('Token has expired')],
    ['wrong aud beats missing claims', bearer(hsToken({ aud: 'https://x.example' })), fail('Wrong configuration-token-audience')],
    ['payload is a list', bearer(rawHsToken([1, 2])), fail('Wrong JWT structure')],
    ['header without alg', bearer(rawHsToken(USER, { typ: 'JWT' })), fail('Wrong JWT structure')],
    ['valid', bearer(hsToken(USER)), OK],
    ['valid, lower-case scheme', { authorization: `bearer ${hsToken(USER)}` }, OK],
    ['valid with exp and matching aud', bearer(hsToken({ ...USER, exp: now() + 600, aud: 'http://relay.local:9090' })), OK]
  ]
  for (const [name, headers, expected] of cases) {
    t.same((await refer(app, headers)).body, expected, name)
  }
})

t.test('HS256 token without SECRET_KEY configured', async (t) => {
  const { app } = await build(t, { SECRET_KEY: undefined })
  t.same((await refer(app, bearer(hsToken(USER)))).body, fail('<SECRET_KEY> is missing'))
})

t.test('authentication runs before body validation', async (t) => {
  const { app } = await build(t)
  t.same((await refer(app, {}, { not: 'a list' })).body, fail('Authorization header is missing'))
  const res = await app.inject({ method: 'POST', url: '/refer/observables', payload: '{broken' })
  t.same(res.json(), fail('Authorization header is missing'))
})

t.test('configuration-token (RS256) mode', async (t) => {
  const jwks = await startJwks(t)
  const { app } = await build(t, { JWKS_HOSTS: `visibility.amp.cisco.com,${jwks.origin}` })
  const aud = 'http://relay.local:9090'
  const claims = { ...USER, jwks_host: jwks.host, aud }
  const other = await startJwks(t) // a different key pair for forged signatures

  const cases: Array<[string, string, unknown]> = [
    ['valid', jwks.sign(claims), OK],
    ['no jwks_host', jwks.sign({ ...USER, aud }), fail(RS.missing)],
    ['no kid', createSigner({ key: jwks.privateKey, algorithm: 'RS256', noTimestamp: true })(claims), fail(RS.missing)],
    ['unknown kid', jwks.sign(claims, { kid: 'rotated-away' }), fail(RS.kid)],
    ['forged signature', jwks.sign(claims, { key: other.privateKey }), fail(RS.signature)],
    ['expired', jwks.sign({ ...claims, exp: now() - 5 }), fail('Token has expired')],
    ['not yet valid', jwks.sign({ ...claims, nbf: now() + 300 }), fail('Token is not yet valid')],
    ['no aud', jwks.sign({ ...USER, jwks_host: jwks.host }), fail('Wrong configuration-token-audience')],
    ['wrong aud', jwks.sign({ ...claims, aud: 'https://relay.evil.example' }), fail('Wrong configuration-token-audience')],
    ['aud as a list', jwks.sign({ ...claims, aud: ['https://other.example', aud] }), OK],
    ['no user/pass', jwks.sign({ jwks_host: jwks.host, aud }), fail('Wrong JWT payload structure')],
    ['jwks_host with a path', jwks.sign({ ...claims, jwks_host: `${jwks.host}/x` }), fail(RS.wrongHost)],
    ['jwks_host with userinfo', jwks.sign({ ...claims, jwks_host: `user@${jwks.host}` }), fail(RS.wrongHost)],
    ['jwks_host suffix', jwks.sign({ ...claims, jwks_host: 'visibility.amp.cisco.com.evil.example' }), fail(RS.wrongHost)],
    // HS/RS confusion: an HS256 token whose "secret" is the RSA public key.
    ['HS256 signed with the RSA public key', hsToken(claims, jwks.publicKey), fail('Failed to decode JWT with provided key')]
  ]
  for (const [name, token, expected] of cases) {
    t.same((await refer(app, bearer(token))).body, expected, name)
  }
  t.equal(jwks.requests, 1, 'the JWKS is fetched once and cached; an unknown kid does not refetch within a minute')
})

t.test('a jwks_host outside the allow-list causes no request to that host', async (t) => {
  const attacker = await startJwks(t)
  const { app } = await build(t) // default JWKS_HOSTS: the three Cisco hosts only
  const token = attacker.sign({ ...USER, jwks_host: attacker.host, aud: 'http://relay.local:9090' })
  t.same((await refer(app, bearer(token))).body, fail(RS.wrongHost))
  t.equal(attacker.requests, 0)
})

t.test('empty JWKS_HOSTS disables RS256 mode', async (t) => {
  const jwks = await startJwks(t)
  const { app } = await build(t, { JWKS_HOSTS: '' })
  t.same((await refer(app, bearer(jwks.sign({ ...USER, aud: 'http://relay.local:9090' })))).body, fail(RS.wrongHost))
  t.equal(jwks.requests, 0)
})

t.test('an unreachable or invalid JWKS reads as a wrong jwks_host', async (t) => {
  const jwks = await startJwks(t)
  const bad = http.createServer((_req, res) => res.writeHead(200).end('not json'))
  await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve))
  t.teardown(() => bad.close())
  const badHost = `127.0.0.1:${(bad.address() as AddressInfo).port}`
  await jwks.close()
  const { app } = await build(t, { JWKS_HOSTS: `${jwks.origin},http://${badHost}` })
  const aud = 'http://relay.local:9090'
  t.same((await refer(app, bearer(jwks.sign({ ...USER, aud, jwks_host: jwks.host })))).body, fail(RS.wrongHost))
  t.same((await refer(app, bearer(jwks.sign({ ...USER, aud, jwks_host: badHost })))).body, fail(RS.wrongHost))
})

t.test('audience: PUBLIC_URL, the request root, and X-Forwarded-* only with TRUST_PROXY', async (t) => {
  const jwks = await startJwks(t)
  const token = (aud: string) => bearer(jwks.sign({ ...USER, jwks_host: jwks.host, aud }))
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'relay.example.com' }

  const direct = (await build(t, { JWKS_HOSTS: jwks.origin })).app
  t.same((await refer(direct, token('http://relay.local:9090'))).body, OK, 'request root without a proxy')
  t.same((await refer(direct, { ...token('https://relay.example.com'), ...forwarded })).body,
    fail('Wrong configuration-token-audience'), 'forwarded headers are ignored without TRUST_PROXY')

  const proxied = (await build(t, { JWKS_HOSTS: jwks.origin, TRUST_PROXY: 'true' })).app
  t.same((await refer(proxied, { ...token('https://relay.example.com'), ...forwarded })).body, OK, 'forwarded root with TRUST_PROXY')
  t.same((await refer(proxied, { ...token('https://relay.example.com/'), ...forwarded })).body, OK, 'trailing slash ignored')
  t.same((await refer(proxied, { ...token('http://relay.local:9090'), ...forwarded })).body,
    fail('Wrong configuration-token-audience'), 'the direct root is not the public one behind a proxy')

  const fixed = (await build(t, { JWKS_HOSTS: jwks.origin, PUBLIC_URL: 'https://xdr-relay.example.org/' })).app
  t.same((await refer(fixed, token('https://xdr-relay.example.org'))).body, OK, 'PUBLIC_URL wins')
  t.same((await refer(fixed, token('http://relay.local:9090'))).body, fail('Wrong configuration-token-audience'))
})

t.test('config claims apply to that request only', async (t) => {
  const { app } = await build(t, { PLATFORM_URL: 'https://qualysguard.qg2.apps.qualys.com' })
  const obs = [{ type: 'ip', value: '1.2.3.4' }]
  const withClaim = await refer(app, bearer(hsToken({ ...USER, PLATFORM_URL: 'https://qualysguard.qg3.apps.qualys.com' })), obs)
  t.match(withClaim.body.data[0].url, /^https:\/\/qualysguard\.qg3\.apps\.qualys\.com\/ioc\//)
  const without = await refer(app, bearer(hsToken(USER)), obs)
  t.match(without.body.data[0].url, /^https:\/\/qualysguard\.qg2\.apps\.qualys\.com\/ioc\//)
})

t.test('a remembered token still expires at its exp', async (t) => {
  const { app } = await build(t)
  // exp is whole seconds: two seconds ahead leaves at least one second of validity, however
  // late in its second the test starts on a loaded machine.
  const exp = Math.floor(Date.now() / 1000) + 2
  const token = bearer(hsToken({ ...USER, exp }))
  t.same((await refer(app, token)).body, OK, 'valid now')
  t.same((await refer(app, token)).body, OK, 'and again, from memory')
  await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50))
  t.same((await refer(app, token)).body, fail('Token has expired'), 'refused once exp has passed')
})
