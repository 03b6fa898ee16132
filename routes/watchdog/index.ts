import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { envelope, relayError } from '../../lib/errors.js'
import { ERRORS, example } from '../../schemas/error-catalogue.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    config: { public: true },
    schema: {
      tags: ['Operations'],
      summary: 'Liveness probe: echoes the Health-Check header (no authentication)',
      headers: Type.Object({ 'health-check': Type.Optional(Type.String({ description: 'Any text: it is echoed back', examples: ['ping'] })) }),
      response: {
        200: Envelope(Type.String(), 'The Health-Check header value', {
          echo: { summary: 'The header echoed', value: { data: 'ping' } },
          missing: { summary: 'No Health-Check header', value: { errors: [example(ERRORS.healthCheck)] } }
        }),
        ...frameworkErrors
      }
    }
  }, async (request) => {
    const value = request.headers['health-check']
    if (value === undefined) throw relayError(ERRORS.healthCheck)
    return envelope(value, [])
  })
}

export default plugin
