import t from 'tap'
import { createVerifier } from 'fast-jwt'
import { bearer, build, spawnTs } from '../helper.js'

const SECRET = 'token-test-secret-9f8e7d6c5b4a'

t.test('npm run token mints an HS256 token the relay accepts', async (t) => {
  const p = spawnTs(t, 'scripts/token.ts', { SECRET_KEY: SECRET }, [
    '--user', 'alice', '--pass', 'p&ss word', '--api-url', 'https://gateway.qg3.apps.qualys.com',
    '--platform-url', 'https://qualysguard.qg3.apps.qualys.com', '--limit', '25', '--expires-in', '2'
  ])
  t.equal(await p.exited, 0)
  const token = p.output().trim()
  const payload = createVerifier({ key: SECRET, algorithms: ['HS256'] })(token)
  t.match(payload, {
    user: 'alice', pass: 'p&ss word', API_URL: 'https://gateway.qg3.apps.qualys.com', PLATFORM_URL: 'https://qualysguard.qg3.apps.qualys.com', CTR_ENTITIES_LIMIT: 25
  })
  t.ok(payload.exp - payload.iat === 7200, 'expires in 2 hours')

  const { app } = await build(t, { SECRET_KEY: SECRET })
  const res = await app.inject({ method: 'POST', url: '/refer/observables', headers: bearer(token), payload: [{ type: 'ip', value: '1.2.3.4' }] })
  t.match(res.json().data[0].url, /^https:\/\/qualysguard\.qg3\.apps\.qualys\.com\//)
})

t.test('clear errors', async (t) => {
  const cases: Array<[Record<string, string>, string[], RegExp]> = [
    [{}, ['--user', 'a', '--pass', 'b'], /^token: SECRET_KEY is not set/],
    [{ SECRET_KEY: SECRET }, ['--user', 'a'], /--user and --pass are required/],
    [{ SECRET_KEY: SECRET }, ['--user', 'a', '--pass', 'b', '--limit', '0'], /--limit must be a positive integer/],
    [{ SECRET_KEY: SECRET }, ['--user', 'a', '--pass', 'b', '--api-url', 'gateway.qg2'], /--api-url must be an http\(s\) URL/],
    [{ SECRET_KEY: SECRET }, ['--nope'], /Unknown option/]
  ]
  for (const [env, args, pattern] of cases) {
    const p = spawnTs(t, 'scripts/token.ts', env, args)
    t.equal(await p.exited, 1, args.join(' '))
    t.match(p.output(), pattern)
    t.notMatch(p.output(), /at .*\.ts:\d+/, 'no stack trace')
  }
})
