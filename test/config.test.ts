import t from 'tap'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import app, { options } from '../app.js'

async function start (env: Record<string, string>) {
  const fastify = Fastify(options)
  await fastify.register(fp(app), { env })
  try {
    await fastify.ready()
    return fastify
  } finally {
    await fastify.close()
  }
}

t.test('a bad value stops start-up with one line naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /PORT/],
    [{ CTR_ENTITIES_LIMIT: '0' }, /CTR_ENTITIES_LIMIT/],
    [{ CTR_ENTITIES_LIMIT: '1.5' }, /CTR_ENTITIES_LIMIT/],
    [{ API_URL: 'gateway.qg2.apps.qualys.com' }, /API_URL/],
    [{ QUALYS_DEADLINE_MS: '-1' }, /QUALYS_DEADLINE_MS/],
    [{ TRUST_PROXY: 'maybe' }, /TRUST_PROXY/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ JWKS_HOSTS: 'https://evil.example/path' }, /^JWKS_HOSTS: "https:\/\/evil.example\/path" is neither/],
    [{ QUALYS_HOSTS: 'user@host.example' }, /^QUALYS_HOSTS: /],
    [{ QUALYS_BUDGET_RESERVE: 'half' }, /QUALYS_BUDGET_RESERVE/],
    [{ QUALYS_BUDGET_RESERVE: '-5' }, /QUALYS_BUDGET_RESERVE/]
  ]
  for (const [env, pattern] of cases) {
    const err = await start(env).then(() => undefined, (e: Error) => e)
    t.ok(err, `${JSON.stringify(env)} fails`)
    t.match(err?.message, pattern, JSON.stringify(env))
    t.notOk(err?.message.includes('\n'), 'one line')
  }
})

t.test('defaults are the documented ones', async (t) => {
  const fastify = Fastify(options)
  await fastify.register(fp(app), { env: {} })
  await fastify.ready()
  t.teardown(() => fastify.close())
  t.match(fastify.config, {
    PORT: 9090,
    HOST: '0.0.0.0',
    CTR_ENTITIES_LIMIT: 100,
    JWKS_HOSTS: 'visibility.amp.cisco.com,visibility.eu.amp.cisco.com,visibility.apjc.amp.cisco.com',
    TRUST_PROXY: false,
    LOG_LEVEL: 'info',
    QUALYS_CONNECT_TIMEOUT_MS: 5000,
    QUALYS_DEADLINE_MS: 25000,
    QUALYS_RETRIES: 3,
    QUALYS_CONCURRENCY: 2,
    LOOKUP_CACHE_TTL_S: 60,
    QUALYS_BUDGET_RESERVE: '20%',
    TILE_FRESH_24H_S: 900,
    TILE_FRESH_7D_S: 3600,
    TILE_FRESH_30D_S: 14400,
    HEALTH_CACHE_S: 60
  })
  t.equal(fastify.config.TILE_CACHE_TTL_S, undefined)
})

t.test('a bad value is named, never printed: it may be a secret', async (t) => {
  const err = await start({ REDIS_URL: 'http://:hunter2-redis-password@redis:6379' }).then(() => undefined, (e: Error) => e)
  t.match(err?.message, /^env\/REDIS_URL /)
  t.notOk(err?.message.includes('hunter2'), 'the password is not in the message')
})
