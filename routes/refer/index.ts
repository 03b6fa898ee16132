import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { envelope, relayError, type RelayError } from '../../lib/errors.js'
import { ERRORS, example } from '../../schemas/error-catalogue.js'
import { huntingUrl, QUERIES, percentEncode } from '../../lib/qualys/qql.js'
import { credentials } from '../../plugins/app/auth/index.js'
import { lookups, platformUrl } from '../../lib/relay.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'
import { ERROR_EXAMPLES, REFER_EXAMPLE } from '../../schemas/examples.js'
import { ObservablesSchema } from '../../schemas/observables.js'

const ReferSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.String(),
  url: Type.String(),
  categories: Type.Array(Type.String())
})

const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config } = fastify

  fastify.post('/observables', {
    schema: {
      tags: ['Relay'],
      summary: 'Pivot links into the Qualys UI for each supported observable',
      security: [{ bearerAuth: [] }],
      body: ObservablesSchema,
      response: {
        200: Envelope(Type.Array(ReferSchema), 'Links, with warnings or errors if any', {
          links: { summary: 'A pivot link per supported observable', value: { data: REFER_EXAMPLE } },
          noPlatform: {
            summary: 'No platform URL configured or derivable',
            value: { data: [], errors: [example(ERRORS.noPlatformUrl)] }
          },
          unauthorized: { summary: 'No or a bad token', value: { errors: [ERROR_EXAMPLES.authorization] } }
        }),
        ...frameworkErrors
      }
    }
  }, async (request) => {
    const creds = credentials(request)
    const { items, warnings } = lookups(request.body, config.MAX_OBSERVABLES)
    const errors: RelayError[] = [...warnings]
    const platform = platformUrl(creds, config)
    let data: Array<typeof ReferSchema.static> = []
    if (platform === undefined) {
      if (items.length > 0) {
        errors.push(relayError(ERRORS.noPlatformUrl))
      }
    } else {
      data = items.map(({ type, value }) => {
        const { name, filter } = QUERIES[type]
        return {
          id: `ref-qualys-search-${type}-${percentEncode(value)}`,
          title: `Search for this ${name}`,
          description: `Check this ${name} status with Qualys`,
          url: huntingUrl(platform, filter(value)),
          categories: ['Search', 'Qualys']
        }
      })
    }
    return envelope(data, errors, { always: true })
  })
}

export default plugin
