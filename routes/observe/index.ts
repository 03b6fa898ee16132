import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { envelope } from '../../lib/errors.js'
import { ObserveDataSchema } from '../../schemas/ctim.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'
import { answerExamples, INDICATOR_EXAMPLE, JUDGEMENT_EXAMPLE, RELATIONSHIP_EXAMPLE, SIGHTING_EXAMPLE } from '../../schemas/examples.js'
import { ObservablesSchema } from '../../schemas/observables.js'

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/observables', {
    schema: {
      tags: ['Relay'],
      summary: 'Qualys IOC events about each observable, as CTIM sightings, indicators, judgements and relationships',
      security: [{ bearerAuth: [] }],
      body: ObservablesSchema,
      response: {
        200: Envelope(ObserveDataSchema, 'CTIM documents, with the errors of calls that failed', answerExamples({
          sightings: { count: 1, docs: [SIGHTING_EXAMPLE] },
          indicators: { count: 1, docs: [INDICATOR_EXAMPLE] },
          judgements: { count: 1, docs: [JUDGEMENT_EXAMPLE] },
          relationships: { count: 1, docs: [RELATIONSHIP_EXAMPLE] }
        }, 'A sighting of the observable, its indicator, a judgement and a relationship')),
        ...frameworkErrors
      }
    }
  }, async (request) => {
    const { data, errors } = await fastify.investigate(request, request.body)
    return envelope(data, errors)
  })
}

export default plugin
