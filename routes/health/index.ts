import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { envelope } from '../../lib/errors.js'
import { credentials } from '../../lib/relay.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'
import { ERROR_EXAMPLES } from '../../schemas/examples.js'

// Proves the credentials and the service: a real login and a one-event Active call.
const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/', {
    schema: {
      tags: ['Relay'],
      summary: 'Check that Qualys IOC accepts the credentials and answers',
      security: [{ bearerAuth: [] }],
      response: {
        200: Envelope(Type.Object({ status: Type.Literal('ok') }), 'ok, or the error Qualys gave', {
          ok: { summary: 'Qualys accepted the credentials and answered', value: { data: { status: 'ok' } } },
          refused: { summary: 'Qualys refused the login', value: { errors: [{ type: 'fatal', code: 'authorization error', message: 'Authorization failed: InvalidCredentialsException' }] } },
          unreachable: { summary: 'Qualys could not be reached', value: { errors: [{ type: 'fatal', code: 'connection error', message: 'Unable to connect Qualys IOC, validate the configured API URL: https://gateway.qg2.apps.qualys.com' }] } },
          unauthorized: { summary: 'No or a bad token', value: { errors: [ERROR_EXAMPLES.authorization] } }
        }),
        ...frameworkErrors
      }
    }
  }, async (request) => {
    await fastify.qualys.health(fastify.qualys.open(credentials(request), 'health', request.log))
    return envelope({ status: 'ok' as const }, [])
  })
}

export default plugin
