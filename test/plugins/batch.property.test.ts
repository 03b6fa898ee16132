import fc from 'fast-check'
import t from 'tap'
import { bearer, build, DEMO, hsToken, markRequestTimes, normaliseIds, withSimulator, type Simulator } from '../helper.js'

// Batching is an optimisation, never a change of answer. Over random mixes of observables and
// events, the batched relay's answer must deep-equal the one-by-one relay's (QUALYS_BATCH=off),
// transient ids aside: the expectation comes from the one-by-one path, never from batch code.
// The vocabularies are small on purpose, so values collide: prefixes (a directory and the files
// below it, a.exe and a.exe.bak, 10.0.0.1 and 10.0.0.10), case variants, events that belong to
// several observables, ties and missing times; limits of 1–4 make pages fill.
const NAMES = ['a.exe', 'A.EXE', 'a.exe.bak', 'b.dll', 'a']
const PATHS = ['C:\\x', 'C:\\x\\a.exe', 'C:\\x\\y\\b.dll', 'C:\\xy\\a.exe', 'C:\\X\\A.EXE']
const IPS = ['10.0.0.1', '10.0.0.10', '10.0.0', '2001:db8::1', '2001:DB8::1']
const DOMAINS = ['ex.com', 'ex.com.evil.net', 'sub.ex.com', 'EX.COM']
const MUTEXES = ['M1', 'm1', 'M1x', 'Global\\M1']
const MD5S = ['aa'.repeat(16), 'AA'.repeat(16), 'bb'.repeat(16), 'aa'.repeat(15)]
const SHAS = ['cc'.repeat(32), 'CC'.repeat(32), 'dd'.repeat(32)]
const TIMES = ['2024-01-01T00:00:00.000+0000', '2024-01-02T00:00:00.000+0000', '2024-01-02T00:00:00.000+0000', '2024-01-03T12:00:00.000+0000']

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const pick = (list: string[]) => fc.constantFrom(...list)
const event = fc.record({
  dateTime: maybe(pick(TIMES)),
  score: maybe(fc.integer({ min: 0, max: 10 }).map(String)),
  indicator2: fc.array(fc.record({ verdict: pick(['MALICIOUS', 'KNOWN', 'SUSPICIOUS']) }), { maxLength: 2 }),
  file: maybe(fc.record({ fileName: maybe(pick(NAMES)), fullPath: maybe(pick(PATHS)), md5: maybe(pick(MD5S)), sha256: maybe(pick(SHAS)) }, { requiredKeys: [] })),
  process: maybe(fc.record({ processName: maybe(pick(NAMES)), fullPath: maybe(pick(PATHS)), processFile: maybe(fc.record({ md5: pick(MD5S) })) }, { requiredKeys: [] })),
  network: maybe(fc.record({ localIP: maybe(pick(IPS)), remoteIP: maybe(pick(IPS)), remoteDns: maybe(pick(DOMAINS)) }, { requiredKeys: [] })),
  handle: maybe(fc.record({ name: pick(MUTEXES) }))
}, { requiredKeys: ['indicator2'] })
const events = (prefix: string) => fc.array(event, { maxLength: 10 }).map((list) =>
  list.map((e, i) => ({ id: `${prefix}${i}`, type: 'FILE', ...e })))
const observable = fc.oneof(
  pick(NAMES).map((value) => ({ type: 'file_name', value })),
  pick(PATHS).map((value) => ({ type: 'file_path', value })),
  pick(IPS.slice(0, 3)).map((value) => ({ type: 'ip', value })),
  pick(IPS.slice(3)).map((value) => ({ type: 'ipv6', value })),
  pick(DOMAINS).map((value) => ({ type: 'domain', value })),
  pick(MUTEXES).map((value) => ({ type: 'mutex', value })),
  pick(MD5S).map((value) => ({ type: 'md5', value })),
  pick(SHAS).map((value) => ({ type: 'sha256', value }))
)
// A 400 on every batched call (a single ip query has two terms; batches have more), or every
// Active call failing with a 500: the same rule applies to both relays.
type Fault = 'none' | 'batch400' | 'active500'
const rules: Record<Fault, Simulator['rule']> = {
  none: undefined,
  batch400: (call) => (call.filter?.match(/: "/g)?.length ?? 0) > 2 ? { status: 400, body: '{"message":"query too complex"}' } : undefined,
  active500: (call) => call.state === 'true' ? { status: 500, body: 'boom' } : undefined
}

t.test('batched answers deep-equal one-by-one answers over random observables and events', async (t) => {
  const sim = await withSimulator(t)
  const [batched, single] = await Promise.all(['mixed', 'off'].map(async (mode) =>
    (await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: mode, QUALYS_RETRIES: '0' })).app))
  const token = bearer(hsToken(DEMO))
  const observe = async (app: typeof batched, payload: unknown, limit: number) => {
    const from = Date.now() - 1
    const res = await app!.inject({ method: 'POST', url: '/observe/observables', headers: { ...token, ...bearer(hsToken({ ...DEMO, CTR_ENTITIES_LIMIT: limit })) }, payload: JSON.stringify(payload) })
    return normaliseIds(markRequestTimes(res.json(), from, Date.now() + 1, 'request time')).body
  }
  let batchedCalls = 0
  let singleCalls = 0
  await fc.assert(fc.asyncProperty(
    fc.array(observable, { minLength: 2, maxLength: 12 }), events('A'), events('H'), fc.integer({ min: 1, max: 4 }),
    fc.constantFrom<Fault>('none', 'none', 'batch400', 'active500'),
    async (observables, active, historical, limit, fault) => {
      sim.setFixtures({ active, historical })
      sim.rule = rules[fault]
      let before = sim.counters.events
      const expected = await observe(single, observables, limit)
      singleCalls += sim.counters.events - before
      before = sim.counters.events
      const actual = await observe(batched, observables, limit)
      batchedCalls += sim.counters.events - before
      t.strictSame(actual, expected, `${fault}, limit ${limit}: ${JSON.stringify(observables)}`)
    }), { numRuns: 200 })
  sim.rule = undefined
  t.ok(batchedCalls < singleCalls, `batched: ${batchedCalls} calls, one by one: ${singleCalls}`)
})
