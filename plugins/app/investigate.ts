import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { relayError, RelayError } from '../../lib/errors.js'
import { ERRORS } from '../../schemas/error-catalogue.js'
import { isQuotable, QUERIES } from '../../lib/qualys/qql.js'
import { credentials } from './auth/index.js'
import { lookups } from '../../lib/relay.js'
import type { ObserveData } from '../../schemas/ctim.js'
import type { Observable } from '../../schemas/observables.js'

export interface Investigation {
  data: ObserveData // the CTIM documents of SPEC §5
  errors: RelayError[] // warnings and Qualys errors, beside what was found
  requestTime: Date
}

declare module 'fastify' {
  interface FastifyInstance {
    investigate: (request: FastifyRequest, observables: Observable[]) => Promise<Investigation>
  }
}

// What observe answers and deliberate judges: the same lookups (so the lookup cache serves both
// when XDR asks both for one investigation) and the same CTIM documents.
export default fp(async function investigatePlugin (fastify: FastifyInstance) {
  fastify.decorate('investigate', async (request: FastifyRequest, observables: Observable[]): Promise<Investigation> => {
    const requestTime = new Date()
    const creds = credentials(request)
    const { items, warnings } = lookups(observables, fastify.config.MAX_OBSERVABLES)
    const errors: RelayError[] = [...warnings]
    const queryable = items.filter((item) => {
      if (isQuotable(item.value)) return true
      errors.push(relayError(ERRORS.unquotable, { name: QUERIES[item.type].name, value: JSON.stringify(item.value) }))
      return false
    })
    let data: ObserveData = {}
    if (queryable.length > 0) {
      try {
        const conversation = fastify.qualys.open(creds, 'investigation', request.log)
        try {
          const { observations, errors: failed } = await fastify.qualys.lookupAll(conversation, queryable, creds.limit)
          data = fastify.ctim(observations, creds.limit, requestTime)
          errors.push(...failed)
        } finally {
          conversation.end()
        }
      } catch (err) {
        if (!(err instanceof RelayError)) throw err
        errors.push(err)
      }
    }
    return { data, errors, requestTime }
  })
}, { name: 'investigate', dependencies: ['env', 'qualys', 'ctim'] })
