import { DEMO, hsToken, SECRET_KEY, spawnNode, type Simulator } from '../helper.js'
import { builtRelay } from './built.js'
import { relayUp } from '../../bench/common.js'
import type { runScenario, Scenario } from '../../bench/budget-scenario.js'
import { freePort } from '../../scripts/free-port.js'

// An over-subscribed hour on a compressed clock, against the built relay over real HTTP (SPEC
// §12): a 30-second window stands for Qualys' hour (1 s = 2 min), 80 calls per window, another
// consumer of the subscription spends 24 of them evenly, an analyst investigates 10 new
// observables every 5 s (2 calls each: 12 a window), a dashboard asks its 12 tiles every 3 s,
// a monitor /health every 10 s. Tile freshness and the health cache are the defaults scaled to
// that clock. Demand left unchecked would be about 70 calls a window for the relay where the other
// consumer leaves it 56.
export const SCENARIO: Scenario = {
  windowSec: 30,
  windows: 3,
  otherPerWindow: 24,
  investigationEverySec: 5,
  observablesPerInvestigation: 10,
  dashboardEverySec: 3,
  healthEverySec: 10
}
export const LIMIT = 80
const ENV = { TILE_FRESH_24H_S: '8', TILE_FRESH_7D_S: '30', TILE_FRESH_30D_S: '120', HEALTH_CACHE_S: '1' }

export async function relays (t: any, sim: Simulator, count: number, env: Record<string, string> = {}): Promise<string[]> {
  const dir = await builtRelay()
  return Promise.all(Array.from({ length: count }, async () => {
    const port = await freePort()
    spawnNode(t, [`${dir}/server.js`], { NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), SECRET_KEY, API_URL: sim.url, LOG_LEVEL: 'warn', ...ENV, ...env })
    const url = `http://127.0.0.1:${port}`
    await relayUp(url)
    return url
  }))
}

export function check (t: any, result: Awaited<ReturnType<typeof runScenario>>) {
  const { investigations: i, tiles, perWindow } = result
  t.equal(i.budgetErrors, 0, `no investigation failed for the budget (${i.asked} asked, slowest ${i.maxMs} ms)`)
  t.same(i.otherErrors, [], 'nor for anything else')
  t.equal(i.answered, i.asked, 'every investigation answered')
  t.ok(tiles.withData >= 0.95 * tiles.asked, `tiles with data: ${tiles.withData} of ${tiles.asked} (${tiles.stale} stale); errors ${JSON.stringify(tiles.errors)}`)
  for (const [n, window] of perWindow.entries()) {
    t.equal(window.otherAllowed, window.otherAsked, `window ${n + 1}: the other consumer got all its ${window.otherAsked} calls`)
    t.ok(window.relayCalls <= LIMIT - window.otherAllowed, `window ${n + 1}: the relay made ${window.relayCalls} calls, the other consumer left it ${LIMIT - window.otherAllowed}`)
  }
  // Before priorities: 10 calls per period (30 a dashboard) every TILE_CACHE_TTL_S, its default of
  // 15 minutes being 7.5 s on this clock: 12 calls per 3-second refresh.
  const before = 30 * SCENARIO.dashboardEverySec / (900 * SCENARIO.windowSec / 3600)
  t.ok(tiles.callsPerCycle <= before / 3, `tile calls per dashboard refresh: ${tiles.callsPerCycle.toFixed(2)} (before: ${before}; a third: ${(before / 3).toFixed(2)})`)
}

export const token = () => hsToken(DEMO)
