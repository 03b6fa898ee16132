import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { State } from './contract.js'
import { memoryState } from './memory.js'

export type { Cache, State } from './contract.js'

declare module 'fastify' {
  interface FastifyInstance {
    state: State
    redis: Redis | null // the shared Redis (REDIS_URL), or null: everything stays in the process
  }
}

// The relay's state: the process's own, or shared by the replicas through Redis (REDIS_URL;
// SPEC §10). Redis' client and lock library are loaded only when REDIS_URL is set.
export default fp(async function statePlugin (fastify: FastifyInstance) {
  const c = fastify.config
  const local = memoryState(c.LOOKUP_CACHE_MAX)
  if (c.REDIS_URL === undefined) {
    fastify.decorate('state', local)
    fastify.decorate('redis', null)
    return
  }
  const { openRedisState } = await import('./redis.js')
  const shared = openRedisState({
    url: c.REDIS_URL,
    prefix: c.REDIS_PREFIX,
    leaseMs: c.REDIS_LEASE_MS,
    silenceMs: c.REDIS_TIMEOUT_MS,
    local,
    log: fastify.log,
    onUp: fastify.metrics.redisUp,
    onFallback: fastify.metrics.redisFallback
  })
  fastify.decorate('state', shared.state)
  fastify.decorate('redis', shared.redis)
  fastify.addHook('onClose', shared.close)
}, { name: 'state', dependencies: ['env', 'metrics'] })
