import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { envelope } from '../../lib/errors.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'
import { ObservablesSchema } from '../../schemas/observables.js'

const TriggerSchema = Type.Object({
  'action-id': Type.Optional(Type.String()),
  observable_type: Type.Optional(Type.String()),
  observable_value: Type.Optional(Type.String())
}, { additionalProperties: true, examples: [{ 'action-id': 'qualys-ioc-isolate', observable_type: 'ip', observable_value: '23.38.112.137' }] })

// No response actions exist for Qualys IOC: no actions offered, every trigger fails.
const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/observables', {
    schema: {
      tags: ['Relay'],
      summary: 'Response actions (none for Qualys IOC)',
      security: [{ bearerAuth: [] }],
      body: ObservablesSchema,
      response: { 200: Envelope(Type.Array(Type.Object({})), 'Always empty', { none: { summary: 'No response actions', value: { data: [] } } }), ...frameworkErrors }
    }
  }, async () => envelope([], []))

  fastify.post('/trigger', {
    // XDR may send no body at all: that is an empty trigger, still a failure.
    preValidation: async (request) => { request.body ??= {} },
    schema: {
      tags: ['Relay'],
      summary: 'Trigger a response action (none exist: always failure)',
      security: [{ bearerAuth: [] }],
      body: TriggerSchema,
      response: {
        200: Envelope(Type.Object({ status: Type.Literal('failure') }), 'Always failure', { failure: { summary: 'No action exists', value: { data: { status: 'failure' } } } }),
        ...frameworkErrors
      }
    }
  }, async () => envelope({ status: 'failure' as const }, []))
}

export default plugin
