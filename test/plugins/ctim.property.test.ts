import fc from 'fast-check'
import t from 'tap'
import { createCtimBuilder } from '../../plugins/app/ctim/index.js'
import { bearer, build, ctimErrors, DEMO, hsToken, withSimulator } from '../helper.js'

// An events generator of our own with every odd shape Qualys could send: missing fields, null,
// blank strings, huge strings, numbers and objects where strings are expected, IPv4, IPv6 and
// garbage addresses, odd times and scores. Whatever it makes, every document must be valid CTIM.
const huge = fc.integer({ min: 1025, max: 12_000 }).map((n) => 'h'.repeat(n))
const blank = fc.constantFrom('', ' ', '\t', '\n ', '\u00a0', '   ')
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), blank, huge)
const odd = fc.oneof(
  { weight: 4, arbitrary: text },
  fc.constant(undefined), fc.constant(null), fc.integer(), fc.double(), fc.boolean(),
  fc.constant([]), fc.constant({}), fc.array(fc.string(), { maxLength: 2 })
)
const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('fe80::1%eth0', '999.1.1.1', 'not-an-ip', '::', '1.2.3'), odd)
const time = fc.oneof(
  fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString().replace('Z', '+0000')),
  fc.constantFrom('2020-02-10T00:21:04.000+0000', '2020-13-45T99:99:99Z', '7', 'yesterday', '+275760-09-13T00:00:00.000Z'),
  odd
)
const verdict = fc.oneof(fc.constantFrom('KNOWN', 'unknown', 'SUSPICIOUS', 'Malicious', 'REMEDIATED', 'QUARANTINED'),
  fc.array(fc.constantFrom('KNOWN', 'MALICIOUS'), { maxLength: 2 }), odd)
const entry = fc.oneof(fc.record({ verdict, threatName: odd, score: odd }, { requiredKeys: [] }), odd)
const opt = { requiredKeys: [] as [] }
export const qualysEvent = fc.record({
  id: odd,
  type: fc.oneof(fc.constantFrom('FILE', 'PROCESS', 'NETWORK', 'MUTEX', 'REGISTRY'), odd),
  dateTime: time,
  eventProcessedTime: time,
  score: fc.oneof(fc.integer({ min: -2, max: 12 }), fc.integer({ min: -2, max: 12 }).map(String), odd),
  indicator2: fc.oneof(fc.array(entry, { maxLength: 4 }), odd),
  asset: fc.oneof(fc.record({
    netBiosName: odd,
    fullOSName: odd,
    interfaces: fc.oneof(fc.array(fc.oneof(fc.record({ ipAddress: address, macAddress: odd }, opt), odd), { maxLength: 4 }), odd)
  }, opt), odd),
  file: fc.oneof(fc.record({ fileName: odd, fullPath: odd, sha256: odd, md5: odd }, opt), odd),
  process: fc.oneof(fc.record({ processName: odd }, opt), odd),
  network: fc.oneof(fc.record({ remoteIP: address, localIP: address, remoteDns: odd }, opt), odd)
}, opt)

const observableValue = fc.oneof(fc.string({ minLength: 1 }).filter((v) => /\S/.test(v)), huge)
const observableType = fc.constantFrom('md5', 'sha256', 'file_name', 'file_path', 'ip', 'ipv6', 'domain', 'mutex') as fc.Arbitrary<'ip'>

t.test('any events → every document valid CTIM (the builder)', async (t) => {
  const build = createCtimBuilder()
  fc.assert(fc.property(
    fc.array(fc.record({ type: observableType, value: observableValue, active: fc.array(qualysEvent, { maxLength: 4 }), historical: fc.array(qualysEvent, { maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
    fc.integer({ min: 1, max: 6 }),
    (observations, limit) => {
      const data = build(observations, limit)
      const problems = ctimErrors(data as never)
      if (problems.length > 0) throw new Error(problems.slice(0, 3).join('; '))
      return !JSON.stringify(data).includes('null')
    }
  ), { numRuns: 1500 })
  t.pass('1,500 random requests built only valid documents')
})

t.test('any events served by Qualys → every document of the answer valid CTIM (over HTTP)', async (t) => {
  const sim = await withSimulator(t)
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0' })
  const token = bearer(hsToken(DEMO))
  await fc.assert(fc.asyncProperty(fc.array(qualysEvent, { maxLength: 6 }), observableValue, async (events, value) => {
    sim.reset()
    sim.inject({ status: 200, body: JSON.stringify(events) }) // the Active call
    const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: token, payload: [{ type: 'file_name', value }] })
    const body = res.json()
    const problems = ctimErrors(body.data)
    if (res.statusCode !== 200 || problems.length > 0) throw new Error(`${res.statusCode} ${problems.slice(0, 3).join('; ')}`)
  }), { numRuns: 150 })
  t.pass('150 random Qualys answers gave only valid documents')
})
