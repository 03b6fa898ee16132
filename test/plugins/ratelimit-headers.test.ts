import t from 'tap'
import { bearer, build, DEMO, hsToken, withSimulator } from '../helper.js'

// What the relay makes of a tenant's X-RateLimit-* headers (lib/qualys/protocol.ts): Qualys writes
// counts as whole decimal numbers (qualys-api.md §2.6); anything else is "unknown", never 0 and
// never the number a parser might read into it. An unknown budget is left out of /health and
// holds nothing back; a Remaining of 0 beside a valid Limit is a budget spent.
const REMAINING = [
  ['', undefined],
  ['abc', undefined],
  ['-3', undefined],
  ['1e9', undefined], // a number parser's billion: not how Qualys writes a count
  ['5 calls', undefined],
  ['0', 0],
  ['7', 7]
] as const

for (const [limitAs, valid] of [[undefined, true], ['abc', false], ['', false], ['-3', false]] as const) {
  for (const [remainingAs, read] of REMAINING) {
    const name = `Remaining ${JSON.stringify(remainingAs)} beside ${valid ? 'a valid Limit (10)' : `a bad Limit ${JSON.stringify(limitAs)}`}`
    t.test(name, async (t) => {
      const sim = await withSimulator(t, { rateLimit: { limit: 10, windowSec: 3600, limitAs, remainingAs } })
      const { app } = await build(t, { API_URL: sim.url })
      const res = await app.inject({ method: 'POST', url: '/health', headers: bearer(hsToken(DEMO)) })
      const body = res.json()
      t.equal(body.errors, undefined, 'healthy: headers never fail a call')
      const expected = valid && read !== undefined ? { remaining: read, limit: 10, window_seconds: 3600 } : undefined
      if (expected === undefined) t.equal(body.data.budget, undefined, 'read as unknown: no budget shown')
      else t.match(body.data.budget, expected, `read as ${read} of 10`)
    })
  }
}
