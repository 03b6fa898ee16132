import t from 'tap'
import { bearer, build, hsToken, withSimulator } from '../helper.js'

const mutexEvent = (id: string) => ({ id, type: 'MUTEX', score: '5', indicator2: [{ verdict: 'SUSPICIOUS' }], handle: { name: 'MSFTHISTORY!' } })
const tenant = (who: string) => ({ active: [mutexEvent(`M_${who}_active`)], historical: [mutexEvent(`M_${who}_historical`)] })

// Each Qualys account sees only its own events, so every answer shows whose token its calls
// carried. Two credentials × 200 concurrent requests for the same observable, cache off and on.
for (const ttl of ['0', '60']) {
  t.test(`two credentials × 200 concurrent requests never cross (lookup cache TTL ${ttl})`, async (t) => {
    const sim = await withSimulator(t, { accounts: { alice: 'alice-pw', bob: 'bob-pw' }, tenants: { alice: tenant('alice'), bob: tenant('bob') } })
    const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: ttl, QUALYS_CONCURRENCY: '4' })
    const users = Array.from({ length: 400 }, (_, i) => i % 2 === 0 ? 'alice' : 'bob')
    const answers = await Promise.all(users.map(async (user) => {
      const res = await app.inject({
        method: 'POST',
        url: '/observe/observables',
        headers: bearer(hsToken({ user, pass: `${user}-pw` })),
        payload: [{ type: 'mutex', value: 'MSFTHISTORY!' }]
      })
      return res.json()
    }))
    let crossed = 0
    answers.forEach((answer, i) => {
      const ids = answer.data.sightings.docs.map((d: { external_ids: string[] }) => d.external_ids[0]).join(',')
      if (ids !== `M_${users[i]}_active,M_${users[i]}_historical`) crossed++
    })
    t.equal(crossed, 0, 'every answer holds its own credential’s events only')
    t.equal(sim.counters.logins, 2, 'one login per credential')
    const events = sim.calls.filter((c) => c.path === 'events')
    t.same([...new Set(events.map((c) => c.user))].sort(), ['alice', 'bob'], 'both credentials called Qualys themselves')
    if (ttl === '0') t.equal(events.length, 800, 'without the cache, every request asks')
    else t.ok(events.length >= 4 && events.length < 800, `with the cache, ${events.length} calls for 400 requests`)
  })
}
