import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { envelope, invalidPayload, qualysError } from '../../lib/errors.js'
import { credentials } from '../../plugins/app/auth/index.js'
import { platformUrl } from '../../lib/relay.js'
import { Envelope, frameworkErrors } from '../../schemas/envelope.js'
import { ERRORS, example } from '../../schemas/error-catalogue.js'
import { ERROR_EXAMPLES, TILE_DATA_EXAMPLES } from '../../schemas/examples.js'
import {
  BarChartDataSchema, DonutDataSchema, MarkdownDataSchema, MetricGroupDataSchema, TILE_IDS, TileBodySchema, TileDataBodySchema,
  TileSchema, type Period, type TileId
} from '../../schemas/tiles.js'

// One of the allowed values, or `invalid argument` naming the field and the allowed values.
function oneOf<T extends string> (field: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw invalidPayload(`{${JSON.stringify(field)}: ["Must be one of: ${allowed.join(', ')}."]}`)
}

// XDR dashboard tiles (SPEC §11): the descriptors, one descriptor, and a tile's data for a period.
const plugin: FastifyPluginAsyncTypebox = async (fastify) => {
  const common = { tags: ['Tiles'], security: [{ bearerAuth: [] }] }
  const unauthorized = { summary: 'No or a bad token', value: { errors: [ERROR_EXAMPLES.authorization] } }
  const unknownTile = {
    summary: 'An unknown tile',
    value: { errors: [invalidPayload(`{"tile_id": ["Must be one of: ${TILE_IDS.join(', ')}."]}`).toJSON()] }
  }

  fastify.post('/', {
    schema: { ...common, summary: 'The dashboard tiles this relay offers', response: { 200: Envelope(Type.Array(Type.Ref(TileSchema)), 'Tile descriptors', { tiles: { summary: 'The four tiles', value: { data: fastify.tiles.list() } }, unauthorized }), ...frameworkErrors } }
  }, async () => envelope(fastify.tiles.list(), []))

  fastify.post('/tile', {
    schema: { ...common, summary: 'One tile’s descriptor', body: TileBodySchema, response: { 200: Envelope(Type.Ref(TileSchema), 'The descriptor', { tile: { summary: 'One descriptor', value: { data: fastify.tiles.descriptor('qualys-ioc-event-summary') } }, unknownTile, unauthorized }), ...frameworkErrors } }
  }, async (request) => envelope(fastify.tiles.descriptor(oneOf<TileId>('tile_id', request.body.tile_id, TILE_IDS)), []))

  fastify.post('/tile-data', {
    schema: {
      ...common,
      summary: 'A tile’s data for a period, from Qualys IOC’s event counts',
      body: TileDataBodySchema,
      response: {
        200: Envelope(Type.Union([Type.Ref(MetricGroupDataSchema), Type.Ref(DonutDataSchema), Type.Ref(BarChartDataSchema), Type.Ref(MarkdownDataSchema)]),
          'Tile data (the shape of the tile’s type), or the error Qualys gave', {
            ...TILE_DATA_EXAMPLES,
            unknownTile,
            failed: { summary: 'A Qualys count call failed', value: { errors: [example(ERRORS.unavailable)] } },
            heldBack: { summary: 'Never computed, and the Qualys budget is at its reserve for investigations', value: { errors: [qualysError.heldBack().toJSON()] } }
          }),
        ...frameworkErrors
      }
    }
  }, async (request) => {
    const tile = fastify.tiles.descriptor(oneOf<TileId>('tile_id', request.body.tile_id, TILE_IDS))
    const period = oneOf('period', request.body.period ?? tile.default_period, tile.periods) as Period
    const creds = credentials(request)
    const open = () => fastify.qualys.open(creds, 'tile', request.log)
    return envelope(await fastify.tiles.data(open, request.log, tile.id as TileId, period, platformUrl(creds, fastify.config)), [])
  })
}

export default plugin
