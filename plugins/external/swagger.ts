import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { VERSION } from '../../lib/version.js'
import { FrameworkErrorSchema, RelayErrorSchema } from '../../schemas/envelope.js'
import { IndicatorSchema, JudgementSchema, RelationshipSchema, SightingSchema, VerdictSchema } from '../../schemas/ctim.js'
import { BarChartDataSchema, DonutDataSchema, MarkdownDataSchema, MetricGroupDataSchema, TileSchema } from '../../schemas/tiles.js'

// The OpenAPI 3 document at /docs/json and Swagger UI at /docs, generated from the route schemas.
export default fp(async function swaggerPlugin (fastify: FastifyInstance) {
  for (const schema of [RelayErrorSchema, FrameworkErrorSchema,
    SightingSchema, IndicatorSchema, JudgementSchema, RelationshipSchema, VerdictSchema,
    TileSchema, MetricGroupDataSchema, DonutDataSchema, BarChartDataSchema, MarkdownDataSchema]) {
    fastify.addSchema(schema)
  }
  await fastify.register(swagger, {
    // Components are named after the schemas' $id (Sighting, Judgement…), not def-0, def-1.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Qualys IOC relay for Cisco XDR',
        description: 'Enriches Cisco XDR investigations with Qualys IOC (EDR) events as CTIM documents.',
        version: VERSION
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: [
              'A JWT carrying the Qualys credentials (`user`, `pass`, optionally `API_URL`, `PLATFORM_URL`, `CTR_ENTITIES_LIMIT`). Two kinds are accepted:',
              '',
              '- **Cisco XDR RS256 configuration token**: what XDR sends once the module is registered; you never paste it by hand.',
              '- **HS256 token** signed with the relay\'s `SECRET_KEY`: `npm run demo` prints one for its simulated Qualys (`JWT=…`), and',
              '  `npm run token -- --user <qualys user> --pass <password>` mints one for a real relay.',
              '',
              'Paste the token alone (without `Bearer`) into **Authorize**; every relay route then sends it as `Authorization: Bearer <token>`.'
            ].join('\n')
          }
        }
      },
      tags: [
        { name: 'Relay', description: 'Cisco XDR relay module API' },
        { name: 'Tiles', description: 'Cisco XDR dashboard tiles' },
        { name: 'Operations', description: 'Liveness and version' }
      ]
    }
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'swagger', dependencies: ['env'] })
