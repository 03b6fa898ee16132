import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'
import { ObservablesSchema } from '../../schemas/observables.js'

// Qualys IOC gives no verdicts of its own to deliberate on: an empty answer, as the reference.
const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/observables', {
    schema: {
      tags: ['Relay'],
      summary: 'Deliberate (not supported by Qualys IOC: always empty)',
      security: [{ bearerAuth: [] }],
      body: ObservablesSchema,
      response: { 200: Envelope(Type.Object({}), 'Always empty'), ...frameworkErrors }
    }
  }, async () => ({ data: {} }))
}

export default plugin
