import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { overloaded } from '../../lib/errors.js'

// When the event loop lags beyond MAX_EVENT_LOOP_DELAY_MS, new requests get a fast 503 in the
// relay's envelope instead of queueing behind the backlog (0 turns this off).
export default fp(async function underPressurePlugin (fastify: FastifyInstance) {
  const max = fastify.config.MAX_EVENT_LOOP_DELAY_MS
  if (max === 0) return
  await fastify.register(underPressure, {
    maxEventLoopDelay: max,
    sampleInterval: Math.min(1000, Math.max(10, Math.floor(max / 2))),
    retryAfter: 5,
    pressureHandler: (_request, reply) => {
      reply.code(503).header('retry-after', '5').send(overloaded())
    }
  })
}, { name: 'under-pressure', dependencies: ['env'] })
