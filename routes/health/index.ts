import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { envelope } from '../../lib/errors.js'
import { credentials } from '../../plugins/app/auth/index.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'
import { ERRORS, example } from '../../schemas/error-catalogue.js'
import { ERROR_EXAMPLES } from '../../schemas/examples.js'
import { HELD_BACK_NOTE, HealthSchema, type Health } from '../../schemas/health.js'

// Proves the credentials and the service: a real login and a one-event Active call, at most once
// per credential per HEALTH_CACHE_S; reports the Qualys budget. A low budget is not unhealthy.
const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/', {
    schema: {
      tags: ['Relay'],
      summary: 'Check that Qualys IOC accepts the credentials and answers; the Qualys API budget left',
      security: [{ bearerAuth: [] }],
      response: {
        200: Envelope(HealthSchema, 'ok, or the error Qualys gave', {
          ok: { summary: 'Qualys accepted the credentials and answered', value: { data: { status: 'ok', budget: { remaining: 231, limit: 300, window_seconds: 3600, seen_at: '2026-12-02T10:41:07.000Z' } } } },
          reserved: { summary: 'The budget is at its reserve: logged in, not searched', value: { data: { status: 'ok', budget: { remaining: 42, limit: 300, window_seconds: 3600, seen_at: '2026-12-02T10:41:07.000Z' }, note: HELD_BACK_NOTE } } },
          refused: { summary: 'Qualys refused the login', value: { errors: [example(ERRORS.authorization, { reason: 'InvalidCredentialsException' })] } },
          unreachable: { summary: 'Qualys could not be reached', value: { errors: [example(ERRORS.connection, { apiUrl: 'https://gateway.qg2.apps.qualys.com' })] } },
          unauthorized: { summary: 'No or a bad token', value: { errors: [ERROR_EXAMPLES.authorization] } }
        }),
        ...frameworkErrors
      }
    }
  }, async (request) => {
    const conversation = fastify.qualys.open(credentials(request), 'health', request.log)
    try {
      const { searched } = await fastify.qualys.health(conversation).catch((err: unknown) => {
        fastify.metrics.healthAnswer('error')
        throw err
      })
      fastify.metrics.healthAnswer('ok')
      const { report } = await fastify.qualys.budget(conversation)
      return envelope(healthAnswer(searched, report), [])
    } finally {
      conversation.end()
    }
  })
}

const healthAnswer = (searched: boolean, report: Health['budget']): Health =>
  ({ status: 'ok', ...(report === undefined ? {} : { budget: report }), ...(searched ? {} : { note: HELD_BACK_NOTE }) })

export default plugin
