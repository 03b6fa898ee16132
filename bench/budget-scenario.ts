// An over-subscribed Qualys budget on a compressed clock (issue 28): the simulator plays one
// subscription whose budget another consumer (a SIEM connector…) spends evenly, while an analyst
// investigates new observables, an XDR dashboard refreshes its tiles and a monitor asks /health
// — all against relays already running (one, or several sharing Redis). Used by
// test/e2e/budget.test.ts (its own numbers) and `npm run bench` (the numbers).
import { randomBytes } from 'node:crypto'
import { request } from 'undici'
import type { Simulator } from '../simulator/index.js'

export interface Scenario {
  windowSec: number // the compressed hour: one budget window
  windows: number // how many windows the scenario runs
  otherPerWindow: number // calls the other consumer spends per window, evenly
  investigationEverySec: number
  observablesPerInvestigation: number // new every time: no cache helps
  dashboardEverySec: number // the four tiles on three periods, every refresh
  healthEverySec: number
}

export const TILES = ['qualys-ioc-event-summary', 'qualys-ioc-events-by-type', 'qualys-ioc-events-over-time', 'qualys-ioc-latest-malicious']
export const PERIODS = ['last_24_hours', 'last_7_days', 'last_30_days']

interface Answer { ms: number, errors: Array<{ code: string, message: string }>, data?: any }

export interface ScenarioResult {
  investigations: { asked: number, answered: number, budgetErrors: number, otherErrors: string[], maxMs: number }
  tiles: { asked: number, withData: number, stale: number, errors: Record<string, number>, failedTiles: Record<string, number[]>, cycles: number, callsPerCycle: number }
  health: { asked: number, ok: number }
  perWindow: Array<{ relayCalls: number, otherAsked: number, otherAllowed: number }>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function post (url: string, token: string, path: string, body?: unknown): Promise<Answer> {
  const started = Date.now()
  const res = await request(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 60_000,
    bodyTimeout: 60_000
  })
  const json = await res.body.json() as { data?: unknown, errors?: Answer['errors'] }
  return { ms: Date.now() - started, errors: json.errors ?? [], data: json.data }
}

// Runs `every` ms apart from `start` until `end`, each run on the next relay (round robin).
function repeatedly (every: number, end: number, run: (i: number) => Promise<void>): Promise<void[]> {
  const runs: Array<Promise<void>> = []
  return (async () => {
    for (let i = 0; Date.now() < end; i++) {
      runs.push(run(i))
      await sleep(every)
    }
    return Promise.all(runs)
  })()
}

export async function runScenario (s: Scenario, sim: Simulator, relays: string[], token: string): Promise<ScenarioResult> {
  const w = s.windowSec * 1000
  // Start at the beginning of a budget window (the simulator cuts them from its own start).
  await sleep(w - sim.clock() % w + 20)
  const firstWindow = Math.floor(sim.clock() / w)
  const end = Date.now() + s.windows * w
  const relay = (i: number) => relays[i % relays.length] as string
  const r: ScenarioResult = {
    investigations: { asked: 0, answered: 0, budgetErrors: 0, otherErrors: [], maxMs: 0 },
    tiles: { asked: 0, withData: 0, stale: 0, errors: {}, failedTiles: {}, cycles: 0, callsPerCycle: 0 },
    health: { asked: 0, ok: 0 },
    perWindow: Array.from({ length: s.windows }, () => ({ relayCalls: 0, otherAsked: 0, otherAllowed: 0 }))
  }
  const windowOf = () => Math.floor(sim.clock() / w) - firstWindow
  const other = repeatedly(w / s.otherPerWindow, end, async () => {
    const at = r.perWindow[windowOf()]
    if (at === undefined) return
    at.otherAsked++
    at.otherAllowed += sim.spend(1)
  })
  const investigations = repeatedly(s.investigationEverySec * 1000, end, async (i) => {
    const observables = Array.from({ length: s.observablesPerInvestigation }, () => ({ type: 'sha256', value: randomBytes(32).toString('hex') }))
    r.investigations.asked++
    const a = await post(relay(i), token, '/observe/observables', observables)
    r.investigations.maxMs = Math.max(r.investigations.maxMs, a.ms)
    if (a.errors.length === 0) r.investigations.answered++
    else if (a.errors.some((e) => e.code === 'too many requests')) r.investigations.budgetErrors++
    else r.investigations.otherErrors.push(...a.errors.map((e) => `${e.code}: ${e.message}`))
  })
  const dashboard = repeatedly(s.dashboardEverySec * 1000, end, async (i) => {
    r.tiles.cycles++
    await Promise.all(TILES.flatMap((tile) => PERIODS.map(async (period) => {
      r.tiles.asked++
      const a = await post(relay(i), token, '/tiles/tile-data', { tile_id: tile, period })
      if (a.data !== undefined && a.errors.length === 0) {
        r.tiles.withData++
        if (Date.parse(a.data.valid_time.end_time) < Date.now()) r.tiles.stale++
      } else {
        for (const e of a.errors) r.tiles.errors[e.message] = (r.tiles.errors[e.message] ?? 0) + 1
        ;(r.tiles.failedTiles[`${tile} ${period}`] ??= []).push(i) // in which dashboard refreshes
      }
    })))
  })
  const health = repeatedly(s.healthEverySec * 1000, end, async (i) => {
    r.health.asked++
    const a = await post(relay(i), token, '/health')
    if (a.data?.status === 'ok') r.health.ok++
  })
  const before = sim.calls.length
  await Promise.all([other, investigations, dashboard, health])
  const relayCalls = sim.calls.slice(before).filter((c) => c.path !== 'auth' && c.path !== 'other' && c.status !== 429)
  for (const c of relayCalls) {
    const at = r.perWindow[Math.floor(c.at / w) - firstWindow]
    if (at !== undefined) at.relayCalls++
  }
  const tileCalls = sim.calls.slice(before).filter((c) => c.path === 'count' || c.path === 'buckets' || (c.path === 'events' && c.state === 'false'))
  r.tiles.callsPerCycle = tileCalls.length / Math.max(1, r.tiles.cycles)
  return r
}
