import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis | null
  }
}

// The Redis shared by the replicas (REDIS_URL; SPEC §10), or null: everything stays in process.
// Never a single point of failure: an unreachable Redis at start-up does not stop the relay (one
// warning, ioredis keeps reconnecting), and no command waits for a connection (no offline queue):
// a call while Redis is down fails at once and the store answers from the process's own state.
export default fp(async function redisPlugin (fastify: FastifyInstance) {
  const url = fastify.config.REDIS_URL
  if (url === undefined) {
    fastify.decorate('redis', null)
    return
  }
  const redis = new Redis(url, {
    keyPrefix: fastify.config.REDIS_PREFIX,
    commandTimeout: fastify.config.REDIS_TIMEOUT_MS, // slower than this: the caller falls back
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000)
  })
  let up = false
  redis.on('ready', () => {
    up = true
    fastify.metrics.redisUp(true)
    fastify.log.info('redis: connected, state shared with the other replicas')
  })
  redis.on('close', () => {
    if (!up) return
    up = false
    fastify.metrics.redisUp(false)
    fastify.log.warn('redis: unreachable, using in-process state until it is back')
  })
  redis.on('error', () => {}) // reconnection attempts fail while Redis is down: 'close' said so once
  fastify.metrics.redisUp(false)
  redis.connect().catch((err: Error) => {
    fastify.log.warn({ error: err.message }, 'redis: unreachable at start-up, using in-process state and retrying')
  })
  fastify.decorate('redis', redis)
  fastify.addHook('onClose', async () => { redis.disconnect() })
}, { name: 'redis', dependencies: ['env', 'metrics'] })
