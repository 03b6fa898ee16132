import t from 'tap'
import { withSimulator } from '../helper.js'
import { check, LIMIT, relays, SCENARIO, token } from '../helpers/budget-scenario.js'
import { runScenario } from '../../bench/budget-scenario.js'
import { contend } from '../../scripts/contention.js'
import { PROGRAMS, withPrograms } from '../system.js'
import { startRedis } from '../redis.js'

// The over-subscribed hour of test/e2e/budget.test.ts against three built replicas sharing one
// Redis (one budget view, one refresh per tile and period, the slots), a busy CPU beside them.
withPrograms(t, [PROGRAMS.redis], 'three replicas sharing Redis, a busy CPU beside them: investigations first, tiles stale rather than blank', async (t, paths) => {
  const redis = await startRedis(t, paths['redis-server'] as string)
  const sim = await withSimulator(t, { latencyMs: 20, rateLimit: { limit: LIMIT, windowSec: SCENARIO.windowSec } })
  const urls = await relays(t, sim, 3, { REDIS_URL: redis.url })
  const busy = contend(1)
  t.teardown(busy.stop)
  check(t, await runScenario(SCENARIO, sim, urls, token()))
}, { timeout: 200_000 })
