import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidArgument, RelayError, uniqueErrors } from '../../lib/errors.js'
import { isQuotable, QUERIES } from '../../lib/qql.js'
import { credentials, lookups } from '../../lib/relay.js'
import { lookupAll } from '../../plugins/app/qualys/lookup.js'
import { ObserveDataSchema, type ObserveData } from '../../schemas/ctim.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'
import { ObservablesSchema } from '../../schemas/observables.js'

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/observables', {
    schema: {
      tags: ['Relay'],
      summary: 'Qualys IOC events about each observable, as CTIM sightings, indicators, judgements and relationships',
      security: [{ bearerAuth: [] }],
      body: ObservablesSchema,
      response: { 200: Envelope(ObserveDataSchema, 'CTIM documents, with the errors of calls that failed'), ...frameworkErrors }
    }
  }, async (request) => {
    const requestTime = new Date()
    const creds = credentials(request)
    const { items, warnings } = lookups(request.body, fastify.config.MAX_OBSERVABLES)
    const errors: RelayError[] = [...warnings]
    const queryable = items.filter((item) => {
      if (isQuotable(item.value)) return true
      errors.push(invalidArgument(`The ${QUERIES[item.type].name} ${JSON.stringify(item.value)} contains " or \`, ` +
        'which Qualys IOC queries cannot quote safely: it was not looked up', 'warning'))
      return false
    })
    let data: ObserveData = {}
    if (queryable.length > 0) {
      try {
        const session = fastify.qualys.session(creds, request.log)
        data = fastify.ctim(await lookupAll(session, queryable, creds.limit, fastify.config.QUALYS_BATCH), creds.limit, requestTime)
        errors.push(...session.errors)
      } catch (err) {
        if (!(err instanceof RelayError)) throw err
        errors.push(err)
      }
    }
    const hasData = Object.keys(data).length > 0
    if (errors.length === 0) return { data }
    return { ...(hasData ? { data } : {}), errors: uniqueErrors(errors) }
  })
}

export default plugin
