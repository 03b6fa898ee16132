import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { credentials } from '../../lib/relay.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'

// Proves the credentials and the service: a real login and a one-event Active call.
const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/', {
    schema: {
      tags: ['Relay'],
      summary: 'Check that Qualys IOC accepts the credentials and answers',
      security: [{ bearerAuth: [] }],
      response: {
        200: Envelope(Type.Object({ status: Type.Literal('ok') }), 'ok, or the error Qualys gave'),
        ...frameworkErrors
      }
    }
  }, async (request) => {
    await fastify.qualys.session(credentials(request), request.log).health()
    return { data: { status: 'ok' as const } }
  })
}

export default plugin
