import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { bearer, build, DEMO, hsToken, markRequestTimes, normaliseIds, withSimulator } from '../helper.js'

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
// The fields each observable type's query reads, written here from SPEC §4's table (not the
// relay's): a noisy observable gets many events on one of them.
const FIELD: Record<string, (v: string) => Record<string, unknown>> = {
  file_name: (v) => ({ file: { fileName: v } }),
  file_path: (v) => ({ file: { fullPath: v } }),
  ip: (v) => ({ network: { remoteIP: v } }),
  ipv6: (v) => ({ network: { localIP: v } }),
  domain: (v) => ({ network: { remoteDns: v } }),
  mutex: (v) => ({ handle: { name: v } }),
  md5: (v) => ({ file: { md5: v } }),
  sha256: (v) => ({ file: { sha256: v } })
}
// A 400 on every batched call (a single ip query has two terms; batches have more); every Active
// call failing with a 500; one observable's query failing (500) wherever it stands; a front end
// refusing request targets over 600 bytes (414, HTML); one noisy observable (many events). The
// same simulator answers both relays.
type Fault = 'none' | 'batch400' | 'active500' | 'failing' | 'targetLimit' | 'noisy'
const FAULTS: Fault[] = ['none', 'batch400', 'active500', 'failing', 'targetLimit', 'noisy']

t.test('batched answers deep-equal one-by-one answers over random observables and events', async (t) => {
  // Refusals teach the relay a smaller batch per credential: those cases get their own account.
  const REFUSER = { user: 'refuser', pass: 'refuser-password-1' }
  const sim = await withSimulator(t, { accounts: { [DEMO.user]: DEMO.pass, [REFUSER.user]: REFUSER.pass } })
  const [batched, single] = await Promise.all(['mixed', 'off'].map(async (mode) =>
    (await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: mode, QUALYS_RETRIES: '0', QUALYS_MAX_URL_BYTES: '1000' })).app))
  const observe = async (app: typeof batched, payload: unknown, limit: number, who: typeof DEMO) => {
    const from = Date.now() - 1
    const res = await app!.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken({ ...who, CTR_ENTITIES_LIMIT: limit })), payload: JSON.stringify(payload) })
    return normaliseIds(markRequestTimes(res.json(), from, Date.now() + 1, 'request time')).body
  }
  const calls: Record<Fault, { batched: number, single: number, runs: number }> = Object.fromEntries(FAULTS.map((f) => [f, { batched: 0, single: 0, runs: 0 }])) as any
  const overBudget: string[] = []
  const property = fc.asyncProperty(
    fc.uniqueArray(observable, { minLength: 2, maxLength: 12, selector: (o) => `${o.type} ${o.value}` }), events('A'), events('H'),
    fc.integer({ min: 1, max: 4 }), fc.constantFrom(...FAULTS), fc.nat(), fc.integer({ min: 5, max: 40 }),
    async (observables, active, historical, limit, fault, at, noise) => {
      const chosen = observables[at % observables.length] as { type: string, value: string }
      const loud = fault === 'noisy' ? Array.from({ length: noise }, (_, i) => ({ id: `N${i}`, type: 'FILE', indicator2: [], dateTime: TIMES[i % TIMES.length], ...FIELD[chosen.type]?.(chosen.value) })) : []
      sim.setFixtures({ active: [...active, ...loud], historical: [...historical, ...loud.map((e) => ({ ...e, id: `${e.id}h` }))] })
      sim.targetLimit = fault === 'targetLimit' ? { bytes: 600 } : undefined
      sim.rule = fault === 'batch400'
        ? (call) => (call.filter?.match(/: "/g)?.length ?? 0) > 2 ? { status: 400, body: '{"message":"query too complex"}' } : undefined
        : fault === 'active500'
          ? (call) => call.state === 'true' ? { status: 500, body: 'boom' } : undefined
          : fault === 'failing'
            ? (call) => call.filter?.includes(`: "${chosen.value}"`) === true ? { status: 500, body: 'boom' } : undefined
            : undefined
      const who = fault === 'batch400' || fault === 'targetLimit' ? REFUSER : DEMO
      let before = sim.counters.events
      const expected = await observe(single, observables, limit, who)
      const singleCalls = sim.counters.events - before
      before = sim.counters.events
      const actual = await observe(batched, observables, limit, who)
      const batchedCalls = sim.counters.events - before
      const c = calls[fault]
      c.batched += batchedCalls
      c.single += singleCalls
      c.runs++
      // Thrown, not t.same: fast-check then shrinks the case and prints its seed for a replay.
      assert.deepStrictEqual(actual, expected, `${fault}, limit ${limit}: ${JSON.stringify(observables)}`)
      // Bounded: one by one's calls, plus the Historical batch asked beside Active, a re-ask after
      // a full page, and about two calls per halving per state to isolate a failure. A tenant that
      // refuses batches (for their terms, not only their bytes: what was learnt in bytes does not
      // stop the next refusal) can refuse every batch of the split tree: at most one call per
      // inner node, n − 1 per state, beyond the leaves one by one would ask.
      const halvings = Math.ceil(Math.log2(observables.length))
      const refusals = fault === 'batch400' || fault === 'targetLimit' ? 2 * (observables.length - 1) : 0
      const bound = singleCalls + 4 * halvings + 2 + refusals
      if (batchedCalls > bound) overBudget.push(`${fault}: ${batchedCalls} calls > ${bound} for ${observables.length} observables`)
    })
  const seed = Number(process.env.PROPERTY_SEED ?? Date.now() % 2 ** 31)
  try {
    await fc.assert(property, { numRuns: 250, seed })
    t.pass(`250 random cases hold (seed ${seed})`)
  } catch (err) {
    t.fail(String((err as Error).message)) // fast-check's report: the seed, the path and the shrunk case
  }
  sim.rule = undefined
  sim.targetLimit = undefined
  t.same(overBudget, [], 'calls stay bounded in every case')
  const total = (k: 'batched' | 'single') => FAULTS.reduce((sum, f) => sum + calls[f][k], 0)
  t.ok(calls.none.batched < calls.none.single && calls.noisy.batched < calls.noisy.single,
    `fewer calls batched: ${FAULTS.map((f) => `${f} ${calls[f].batched}/${calls[f].single} (${calls[f].runs} runs)`).join(', ')}; all ${total('batched')}/${total('single')}`)
})
