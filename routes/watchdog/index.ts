import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { RelayError } from '../../lib/errors.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    config: { public: true },
    schema: {
      tags: ['Operations'],
      summary: 'Liveness probe: echoes the Health-Check header (no authentication)',
      headers: Type.Object({ 'health-check': Type.Optional(Type.String()) }),
      response: { 200: Envelope(Type.String(), 'The Health-Check header value'), ...frameworkErrors }
    }
  }, async (request) => {
    const value = request.headers['health-check']
    if (value === undefined) throw new RelayError('health check failed', 'Invalid Health Check')
    return { data: value }
  })
}

export default plugin
