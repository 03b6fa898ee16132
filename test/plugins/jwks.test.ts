import { mock } from 'node:test'
import t from 'tap'
import { createJwksClient, jwksOrigin } from '../../plugins/app/auth/jwks.js'
import { parseAllowList, isAllowedUrl } from '../../lib/hosts.js'
import { startJwks } from '../helper.js'

t.test('an unknown kid refetches at most once per host per minute; keys refresh when old', async (t) => {
  const jwks = await startJwks(t)
  // Only Date is mocked: the JWKS fetches still run on real timers.
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
  t.teardown(() => mock.timers.reset())
  const client = createJwksClient()
  t.ok(await client.getKey(jwks.origin, jwks.kid))
  t.equal(jwks.requests, 1)
  t.equal(await client.getKey(jwks.origin, 'nope'), undefined)
  t.equal(await client.getKey(jwks.origin, 'nope'), undefined)
  t.equal(jwks.requests, 1, 'no refetch within the minute')
  mock.timers.tick(61_000)
  t.equal(await client.getKey(jwks.origin, 'nope'), undefined)
  t.equal(jwks.requests, 2, 'one refetch after a minute')
  t.ok(await client.getKey(jwks.origin, jwks.kid))
  t.equal(jwks.requests, 2, 'a known kid is served from the cache')
  mock.timers.tick(3_600_000)
  await client.getKey(jwks.origin, jwks.kid)
  t.equal(jwks.requests, 3, 'keys older than an hour are refreshed')
})

t.test('concurrent first fetches (cold cache, slow JWKS) make one request', async (t) => {
  const jwks = await startJwks(t, 200)
  const client = createJwksClient()
  const keys = await Promise.all(Array.from({ length: 8 }, () => client.getKey(jwks.origin, jwks.kid)))
  t.ok(keys.every((k) => k !== undefined && k === keys[0]), 'every caller gets the key')
  t.equal(jwks.requests, 1, '8 concurrent callers, one request at the JWKS server')
  const misses = await Promise.all(Array.from({ length: 4 }, () => client.getKey(jwks.origin, 'unknown-kid')))
  t.same(misses, [undefined, undefined, undefined, undefined])
  t.equal(jwks.requests, 1, 'an unknown kid just after the fetch does not refetch')
})

t.test('allow-list parsing and matching', async (t) => {
  const list = parseAllowList('X', ' visibility.amp.cisco.com , http://127.0.0.1:8443,https://jwks.example:9443/ ,')
  t.same([...list.hostnames], ['visibility.amp.cisco.com'])
  t.same([...list.origins], ['http://127.0.0.1:8443', 'https://jwks.example:9443'])
  t.equal(jwksOrigin(list, 'visibility.amp.cisco.com'), 'https://visibility.amp.cisco.com')
  t.equal(jwksOrigin(list, '127.0.0.1:8443'), 'http://127.0.0.1:8443')
  for (const claim of ['visibility.amp.cisco.com.', 'VISIBILITY.amp.cisco.com.evil', 'x.visibility.amp.cisco.com', '127.0.0.1', '127.0.0.1:8443/x', 'a@127.0.0.1:8443', 'visibility%2eamp.cisco.com']) {
    t.equal(jwksOrigin(list, claim), undefined, claim)
  }
  t.ok(isAllowedUrl(list, new URL('https://visibility.amp.cisco.com/x')))
  t.notOk(isAllowedUrl(list, new URL('https://visibility.amp.cisco.com:444')))
  t.notOk(isAllowedUrl(list, new URL('http://visibility.amp.cisco.com')))
  t.notOk(isAllowedUrl(list, new URL('https://u:p@visibility.amp.cisco.com')))
  t.ok(isAllowedUrl(list, new URL('http://127.0.0.1:8443/api')))
  for (const bad of ['http://x/path', 'ftp://x', 'user@host', 'https://u@h', 'http://h?q=1', 'bad host']) {
    t.throws(() => parseAllowList('QUALYS_HOSTS', bad), { message: /^QUALYS_HOSTS: / }, bad)
  }
})
