import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { HeldBackError, qualysError } from '../../../lib/errors.js'
import { TILE_IDS, type Period, type Tile, type TileData, type TileId } from '../../../schemas/tiles.js'
import type { Conversation } from '../qualys/index.js'
import type { State } from '../state/index.js'
import { byType } from './by-type.js'
import { tileCalls } from './calls.js'
import { SPAN, type Common, type TileBuilder } from './common.js'
import { latest } from './latest.js'
import { overTime } from './over-time.js'
import { summary } from './summary.js'

// XDR dashboard tiles (SPEC §11, §12), from Qualys' documented count endpoints and one events
// call: summary 2 counts (its total is the over-time tile's buckets), by type 5, over time 1,
// latest 1 — 9 calls per period when every tile of a dashboard is refreshed. A tile is computed
// or refreshed only when the budget lets all its calls go (its cost), so that none is paid for
// nothing.
const TILES: Record<TileId, TileBuilder> = {
  'qualys-ioc-event-summary': summary,
  'qualys-ioc-events-by-type': byType,
  'qualys-ioc-events-over-time': overTime,
  'qualys-ioc-latest-malicious': latest
}

// A tile's data and when it was computed.
interface Kept { data: TileData, at: number }

export interface TilesOptions {
  state: State
  fresh: Record<Period, number> | undefined // ms a tile's data stays fresh, per period; undefined: no tile cache at all
  maySpend: (c: Conversation, calls: number) => Promise<boolean> // whether the budget lets a tile's calls go now
  onAnswer: (freshness: 'fresh' | 'stale' | 'computed') => void
  onHeld: (purpose: 'tile', calls: number) => void
}

// A tile's data now: valid from now for as long as it stays fresh.
function computeTile (freshMs: number, c: Conversation, id: TileId, period: Period, platform?: string): Promise<Kept> {
  const at = Date.now()
  const to = new Date(at)
  const w = { from: new Date(at - SPAN[period]), to, period }
  const common: Common = {
    observed_time: { start_time: w.from.toISOString(), end_time: to.toISOString() },
    valid_time: { start_time: to.toISOString(), end_time: new Date(at + freshMs).toISOString() },
    cache_scope: 'org',
    hide_legend: false
  }
  return TILES[id].build({ calls: tileCalls(c), w, common, platform }).then((data) => ({ data, at }))
}

// A tile's data lives for a share of its period (fresh), then is answered at once from the last
// data while one refresh runs — one per tile and period across replicas, only when the budget is
// above the reserve (SPEC §12). Only a tile never computed is computed in the request, and only
// then can the budget make it an error.
export function createTiles (o: TilesOptions) {
  const refreshing = new Set<Promise<void>>()
  const compute = (c: Conversation, id: TileId, period: Period, platform?: string) => computeTile(o.fresh?.[period] ?? 0, c, id, period, platform)

  const keep = (c: Conversation, key: string, kept: Kept, period: Period) =>
    o.state.results.set(c.account.key, key, kept, Math.max(SPAN[period], o.fresh?.[period] ?? 0))

  // One background refresh: skipped when another replica holds it, when the data became fresh
  // meanwhile, or when the budget is at its reserve.
  async function refresh (c: Conversation, key: string, id: TileId, period: Period, platform?: string) {
    const release = await o.state.tryLock(c.account.key, `refresh\u0000${key}`, c.deadline.signal)
    if (release === undefined) return
    try {
      const kept = await o.state.results.get(c.account.key, key, c.deadline.signal) as Kept | undefined
      if (kept !== undefined && Date.now() - kept.at < (o.fresh?.[period] ?? 0)) return
      if (!await o.maySpend(c, TILES[id].cost)) return o.onHeld('tile', TILES[id].cost)
      await keep(c, key, await compute(c, id, period, platform), period)
    } finally {
      release()
    }
  }

  function inBackground (open: () => Conversation, log: FastifyBaseLogger, ...tile: [string, TileId, Period, string?]) {
    const c = open()
    const running = refresh(c, ...tile).catch((err: unknown) => {
      // Held back halfway (other calls took the budget first) is expected; anything else is news.
      const level = err instanceof HeldBackError ? 'debug' : 'warn'
      log[level]({ tile: tile[1], period: tile[2], error: (err as Error).message }, 'tile refresh failed: the last data is answered meanwhile')
    }).finally(() => {
      c.end()
      refreshing.delete(running)
    })
    refreshing.add(running)
  }

  // The request's answer: the kept data (refreshed in the background once stale), or computed now.
  async function answer (c: Conversation, open: () => Conversation, log: FastifyBaseLogger, id: TileId, period: Period, platform?: string): Promise<TileData> {
    if (o.fresh === undefined) return (await compute(c, id, period, platform)).data
    const key = `tile\u0000${id}\u0000${period}`
    const kept = await o.state.results.get(c.account.key, key, c.deadline.signal) as Kept | undefined
    if (kept !== undefined) {
      const fresh = Date.now() - kept.at < o.fresh[period]
      o.onAnswer(fresh ? 'fresh' : 'stale')
      if (!fresh) inBackground(open, log, key, id, period, platform)
      return kept.data
    }
    if (!await o.maySpend(c, TILES[id].cost)) {
      o.onHeld('tile', TILES[id].cost)
      throw qualysError.heldBack()
    }
    const made = await compute(c, id, period, platform)
    await keep(c, key, made, period)
    o.onAnswer('computed')
    return made.data
  }

  return {
    list: (): Tile[] => TILE_IDS.map((id) => TILES[id].descriptor),
    descriptor: (id: TileId): Tile => TILES[id].descriptor,
    // The tile's data for the period; `open` starts a conversation with Qualys (this request's,
    // or a refresh's own, which outlives the request).
    async data (open: () => Conversation, log: FastifyBaseLogger, id: TileId, period: Period, platform?: string): Promise<TileData> {
      const c = open()
      try {
        return await answer(c, open, log, id, period, platform)
      } finally {
        c.end()
      }
    },
    // Refreshes under way finish before the app closes (their Qualys client with it).
    settle: async () => { await Promise.all(refreshing) }
  }
}

export type Tiles = ReturnType<typeof createTiles>

declare module 'fastify' {
  interface FastifyInstance {
    tiles: Tiles
  }
}

export default fp(async function tilesPlugin (fastify: FastifyInstance) {
  const c = fastify.config
  const fresh = c.TILE_CACHE_TTL_S !== undefined
    ? (c.TILE_CACHE_TTL_S === 0 ? undefined : { last_24_hours: c.TILE_CACHE_TTL_S * 1000, last_7_days: c.TILE_CACHE_TTL_S * 1000, last_30_days: c.TILE_CACHE_TTL_S * 1000 })
    : { last_24_hours: c.TILE_FRESH_24H_S * 1000, last_7_days: c.TILE_FRESH_7D_S * 1000, last_30_days: c.TILE_FRESH_30D_S * 1000 }
  const tiles = createTiles({
    state: fastify.state,
    fresh,
    maySpend: async (conversation, calls) => (await fastify.qualys.budget(conversation, calls)).maySpend,
    onAnswer: fastify.metrics.tileAnswer,
    onHeld: fastify.metrics.heldBack
  })
  fastify.decorate('tiles', tiles)
  fastify.addHook('preClose', tiles.settle)
}, { name: 'tiles', dependencies: ['env', 'state', 'qualys', 'metrics'] })
