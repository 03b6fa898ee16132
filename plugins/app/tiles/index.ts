import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { TILE_IDS, type Period, type Tile, type TileData, type TileId } from '../../../schemas/tiles.js'
import type { Conversation } from '../qualys/index.js'
import type { State } from '../state/index.js'
import { tileCalls } from './calls.js'
import { byType } from './by-type.js'
import { SPAN, type Common, type TileBuilder } from './common.js'
import { latest } from './latest.js'
import { overTime } from './over-time.js'
import { summary } from './summary.js'

// XDR dashboard tiles (SPEC §11), from Qualys' documented count endpoints and one events call.
// Tiles read the historical time series (state=false), as Qualys' own Splunk add-on counts.
// A dashboard (4 tiles, one period) costs 3 + 5 + 1 + 1 = 10 Qualys calls per credential per
// TILE_CACHE_TTL_S: tile data is cached per credential, tile and period.
const TILES: Record<TileId, TileBuilder> = {
  'qualys-ioc-event-summary': summary,
  'qualys-ioc-events-by-type': byType,
  'qualys-ioc-events-over-time': overTime,
  'qualys-ioc-latest-malicious': latest
}

export function createTiles (opts: { ttlS: number, state: State }) {
  return {
    list: (): Tile[] => TILE_IDS.map((id) => TILES[id].descriptor),
    descriptor: (id: TileId): Tile => TILES[id].descriptor,
    // The tile's data for the period, from the cache when a dashboard asked within the TTL.
    async data (c: Conversation, id: TileId, period: Period, platform?: string): Promise<TileData> {
      const key = `tile\u0000${id}\u0000${period}`
      const hit = await opts.state.tiles.get(c.account.key, key)
      if (hit !== undefined) return hit as TileData
      const value = await compute(c, id, period, platform)
      await opts.state.tiles.set(c.account.key, key, value, opts.ttlS * 1000)
      return value
    }
  }

  function compute (c: Conversation, id: TileId, period: Period, platform?: string): Promise<TileData> {
    const to = new Date()
    const w = { from: new Date(to.getTime() - SPAN[period]), to, period }
    const common: Common = {
      observed_time: { start_time: w.from.toISOString(), end_time: to.toISOString() },
      valid_time: { start_time: to.toISOString(), end_time: new Date(to.getTime() + opts.ttlS * 1000).toISOString() },
      cache_scope: 'org',
      hide_legend: false
    }
    return TILES[id].build({ calls: tileCalls(c), w, common, platform })
  }
}

export type Tiles = ReturnType<typeof createTiles>

declare module 'fastify' {
  interface FastifyInstance {
    tiles: Tiles
  }
}

export default fp(async function tilesPlugin (fastify: FastifyInstance) {
  fastify.decorate('tiles', createTiles({ ttlS: fastify.config.TILE_CACHE_TTL_S, state: fastify.state }))
}, { name: 'tiles', dependencies: ['env', 'state'] })
