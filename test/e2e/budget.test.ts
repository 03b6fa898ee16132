import t from 'tap'
import { withSimulator } from '../helper.js'
import { check, LIMIT, relays, SCENARIO, token } from '../helpers/budget-scenario.js'
import { runScenario } from '../../bench/budget-scenario.js'

t.test('one relay: investigations first, tiles stale rather than blank, the other consumer\'s share untouched', { timeout: 300_000 }, async (t) => {
  const sim = await withSimulator(t, { latencyMs: 20, rateLimit: { limit: LIMIT, windowSec: SCENARIO.windowSec } })
  const urls = await relays(t, sim, 1)
  check(t, await runScenario(SCENARIO, sim, urls, token()))
})
