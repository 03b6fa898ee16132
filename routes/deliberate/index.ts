import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { envelope } from '../../lib/errors.js'
import { DeliberateDataSchema, type DeliberateData } from '../../schemas/ctim.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'
import { answerExamples, VERDICT_EXAMPLE } from '../../schemas/examples.js'
import { ObservablesSchema } from '../../schemas/observables.js'

// Verdicts (SPEC §11): the judgements observe would build, one verdict per observable.
const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/observables', {
    schema: {
      tags: ['Relay'],
      summary: 'A CTIM verdict for each observable that Qualys IOC judged',
      security: [{ bearerAuth: [] }],
      body: ObservablesSchema,
      response: {
        200: Envelope(DeliberateDataSchema, 'Verdicts, with the errors of calls that failed',
          answerExamples({ verdicts: { count: 1, docs: [VERDICT_EXAMPLE] } }, 'A verdict for the observable')),
        ...frameworkErrors
      }
    }
  }, async (request) => {
    const { data, errors, requestTime } = await fastify.investigate(request, request.body)
    const docs = fastify.verdicts(data.judgements?.docs ?? [], requestTime, fastify.config.VERDICT_VALID_DAYS)
    const answer: DeliberateData = docs.length === 0 ? {} : { verdicts: { count: docs.length, docs } }
    return envelope(answer, errors)
  })
}

export default plugin
