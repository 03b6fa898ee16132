import t from 'tap'
import { bearer, build, ctimErrors, DEMO, hsToken, markRequestTimes, normaliseIds, withSimulator } from '../helper.js'
import {
  ALL_TYPES_ANSWER, ALL_TYPES_REQUEST, EVENT, INDICATOR_ID, I_FILE_ACTIVE, J_FILE_ACTIVE, OBSERVABLES as O, REQUEST_TIME,
  S_FILE_ACTIVE, S_FILE_HISTORICAL, indicator, judgement, relationship, sighting
} from '../golden/expected.js'
import { NOISY, SHA } from '../fixtures/hashes.js'

async function setup (t: any, env: Record<string, string> = {}) {
  const sim = await withSimulator(t)
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', ...env })
  const observe = async (payload: unknown, claims: Record<string, unknown> = {}) => {
    const from = Date.now() - 1 // a time taken during the request: ISO times carry milliseconds
    const res = await app.inject({
      method: 'POST', url: '/observe/observables', headers: bearer(hsToken({ ...DEMO, ...claims })), payload: JSON.stringify(payload)
    })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.strictSame(ctimErrors(body.data), [], 'every document validates against the CTIM schemas')
    const { body: normalised, problems } = normaliseIds(markRequestTimes(body, from, Date.now() + 1, REQUEST_TIME))
    t.strictSame(problems, [], 'random ids are unique uuid4s')
    return normalised
  }
  return { sim, observe }
}

const OTHERS_SCHEDULE = [
  '- 99 handle.name: "MSFTHISTORY!"',
  '- 99 network.local.address.ip: "23.38.112.137" or network.remote.address.ip: "23.38.112.137"',
  '- 99 file.fullPath: "C:\\Users\\User01\\Downloads\\Malware"',
  '- 100 file.name: "mystery.bin"',
  '- 100 network.remote.address.fqdn: "tor-exit.example-relay.net"',
  'true 100 file.fullPath: "C:\\Users\\User01\\Downloads\\Malware"',
  'true 100 file.name: "mystery.bin"',
  'true 100 handle.name: "MSFTHISTORY!"',
  'true 100 network.local.address.ip: "23.38.112.137" or network.remote.address.ip: "23.38.112.137"',
  'true 100 network.remote.address.fqdn: "tor-exit.example-relay.net"'
]

for (const batch of ['off', 'mixed']) {
  t.test(`golden: one observable of each of the seven types, Active and Historical (hash batching ${batch})`, async (t) => {
    const { sim, observe } = await setup(t, { QUALYS_BATCH: batch })
    t.strictSame(await observe(ALL_TYPES_REQUEST), ALL_TYPES_ANSWER)
    const schedule = sim.calls.filter((c) => c.path === 'events').map((c) => `${c.state ?? '-'} ${c.pageSize} ${c.filter}`).sort()
    const all = `file.hash.sha256: "${SHA}" or file.hash.md5: "7353f60b1739074eb17c5f4dddefe239" or file.name: "mystery.bin" or ` +
      'file.fullPath: "C:\\Users\\User01\\Downloads\\Malware" or network.local.address.ip: "23.38.112.137" or ' +
      'network.remote.address.ip: "23.38.112.137" or network.remote.address.fqdn: "tor-exit.example-relay.net" or handle.name: "MSFTHISTORY!"'
    const expected = batch === 'mixed'
      ? [ // one query per state for all seven, a page of 7 × 100; the directory's answer holds files
          // below it, which equality cannot assign: only file_path is asked again alone (its
          // Historical batch answer holds nothing it contains, so it is complete)
          `- 700 ${all}`,
          `true 700 ${all}`,
          'true 100 file.fullPath: "C:\\Users\\User01\\Downloads\\Malware"'
        ]
      : [
          ...OTHERS_SCHEDULE,
          '- 99 file.hash.md5: "7353f60b1739074eb17c5f4dddefe239"',
          `- 99 file.hash.sha256: "${SHA}"`,
          'true 100 file.hash.md5: "7353f60b1739074eb17c5f4dddefe239"',
          `true 100 file.hash.sha256: "${SHA}"`
        ]
    t.strictSame(schedule, expected.sort(),
      'Active with pageSize = limit, then Historical with limit − Active sightings; the duplicate once')
    t.equal(sim.counters.logins, 1)
  })
}

t.test('golden: no events at all', async (t) => {
  const { observe } = await setup(t)
  t.strictSame(await observe([{ type: 'sha256', value: 'f'.repeat(64) }, { type: 'email', value: 'x@y.z' }]), { data: {} })
  t.strictSame(await observe([]), { data: {} })
})

t.test('golden: truncation at a claim CTR_ENTITIES_LIMIT of 2', async (t) => {
  const { sim, observe } = await setup(t)
  const answer = await observe([O.sha256, O.mutex], { CTR_ENTITIES_LIMIT: '2' })
  const S = (n: number) => `transient:sighting-${n}`
  const J = (n: number) => `transient:judgement-${n}`
  t.strictSame(answer, {
    data: {
      sightings: {
        count: 4,
        docs: [
          S_FILE_ACTIVE(1, O.sha256),
          S_FILE_HISTORICAL(2),
          sighting(3, {
            observable: O.mutex,
            event: EVENT.mutexActive,
            time: '2020-03-17T12:20:02.000Z',
            active: true,
            severity: 'Unknown',
            relations: [],
            targets: [{ type: 'hostname', value: 'WIN7-HOST-01' }, { type: 'ip', value: '10.10.10.29' }, { type: 'mac_address', value: '00:50:56:a1:2b:3c' }],
            os: 'Microsoft Windows 7 Professional 6.1.7601 Service Pack 1 Build 7601'
          }),
          sighting(4, {
            observable: O.mutex,
            event: EVENT.mutexHistorical,
            time: '2020-03-03T17:45:12.000Z',
            active: false,
            severity: 'None',
            relations: [],
            targets: [{ type: 'hostname', value: 'WIN7-HOST-01' }],
            os: 'Microsoft Windows 7 Professional 6.1.7601 Service Pack 1 Build 7601'
          })
        ]
      },
      indicators: { count: 2, docs: [I_FILE_ACTIVE, indicator(INDICATOR_ID.mutexHistorical, EVENT.mutexHistorical, 'Known Good', 'None')] },
      judgements: {
        count: 3,
        docs: [
          ...J_FILE_ACTIVE(1, O.sha256), // the Historical event's judgement no longer fits
          judgement(3, { event: EVENT.mutexHistorical, observable: O.mutex, disposition: 1, name: 'Clean', reason: 'Windows.Shell', severity: 'None' })
        ]
      },
      relationships: {
        count: 8,
        docs: [
          relationship(1, 'based-on', J(1), INDICATOR_ID.fileActive),
          relationship(2, 'based-on', J(2), INDICATOR_ID.fileActive),
          relationship(3, 'based-on', S(1), J(1)),
          relationship(4, 'based-on', S(1), J(2)),
          relationship(5, 'sighting-of', S(1), INDICATOR_ID.fileActive),
          relationship(6, 'based-on', J(3), INDICATOR_ID.mutexHistorical),
          relationship(7, 'based-on', S(4), J(3)),
          relationship(8, 'sighting-of', S(4), INDICATOR_ID.mutexHistorical)
        ]
      }
    }
  })
  t.strictSame(sim.calls.filter((c) => c.path === 'events').map((c) => `${c.state ?? '-'} ${c.pageSize}`).sort(), ['- 4', 'true 4'],
    'both observables in one query per state, a page of 2 × the limit')
})

t.test('golden: a limit of 1 cuts the judgements of an event and skips Historical', async (t) => {
  const { sim, observe } = await setup(t, { CTR_ENTITIES_LIMIT: '1' })
  t.strictSame(await observe([O.sha256]), {
    data: {
      sightings: { count: 1, docs: [S_FILE_ACTIVE(1, O.sha256)] },
      indicators: { count: 1, docs: [I_FILE_ACTIVE] },
      judgements: { count: 1, docs: [J_FILE_ACTIVE(1, O.sha256)[0]] },
      relationships: {
        count: 3,
        docs: [
          relationship(1, 'based-on', 'transient:judgement-1', INDICATOR_ID.fileActive),
          relationship(2, 'based-on', 'transient:sighting-1', 'transient:judgement-1'),
          relationship(3, 'sighting-of', 'transient:sighting-1', INDICATOR_ID.fileActive)
        ]
      }
    }
  })
  t.strictSame(sim.calls.filter((c) => c.path === 'events').map((c) => c.state), ['true'], 'no Historical call')
})

t.test('golden: an observable with more events than the default limit of 100', async (t) => {
  const { sim, observe } = await setup(t)
  const answer = await observe([{ type: 'sha256', value: NOISY }])
  t.equal(answer.data.sightings.count, 100)
  t.equal(answer.data.indicators.count, 100)
  t.equal(answer.data.judgements.count, 100)
  t.equal(answer.data.relationships.count, 300)
  // The fixture's 130 Active events are one second apart, a0 oldest: sorted newest first, the
  // 100 kept are a129 down to a30.
  const expectedIds = Array.from({ length: 100 }, (_, n) => [`F_noisy-a${129 - n}_1-3-2020`])
  t.strictSame(answer.data.sightings.docs.map((d: { external_ids: string[] }) => d.external_ids), expectedIds, 'the newest 100 Active events, newest first')
  t.equal(answer.data.indicators.docs[0].id, 'transient:indicator-dbab711d-d2f6-526b-b8d6-abc59278fcdf') // Python: uuid5(X500, 'F_noisy-a129_1-3-2020')
  t.strictSame(answer.data.sightings.docs[99].data.rows, [['True']])
  t.strictSame(answer.data.judgements.docs[0], judgement(1, {
    event: 'F_noisy-a129_1-3-2020', observable: { type: 'sha256', value: NOISY }, disposition: 5, name: 'Unknown', reason: 'Adware.Toolbar', severity: 'Low'
  }))
  t.strictSame(sim.calls.filter((c) => c.path === 'events').map((c) => `${c.state} ${c.pageSize} ${c.sort}`), ['true 100 [{"event.datetime":"desc"}]'],
    'Historical is skipped: the page is full; sorted newest first')
})

t.test('golden: an ipv6 observable, queried as an ip; IPv6 targets and relations typed ipv6', async (t) => {
  const { sim, observe } = await setup(t)
  const v6 = { type: 'ipv6', value: '2001:db8:beef::35' }
  const event = 'N_3e8a1c52-7d94-4b0f-a6e2-91c5d8f7b304_-5501238740021937655_2212'
  const indicatorId = 'transient:indicator-57f9489e-03c4-5790-add0-a4932b2c1486' // Python: uuid5(NAMESPACE_X500, event)
  const answer = await observe([v6])
  t.strictSame(answer, {
    data: {
      sightings: {
        count: 1,
        docs: [sighting(1, {
          observable: v6,
          event,
          time: '2020-03-18T08:05:41.000Z',
          active: true,
          severity: 'Medium',
          relations: [
            { origin: 'Qualys IOC', relation: 'Connected_To', source: { type: 'file_name', value: 'curl' }, related: v6 },
            { origin: 'Qualys IOC', relation: 'Connected_To', source: { type: 'file_name', value: 'curl' }, related: { type: 'domain', value: 'c2.ipv6-beacon.example' } },
            { origin: 'Qualys IOC', relation: 'Resolved_To', source: v6, related: { type: 'domain', value: 'c2.ipv6-beacon.example' } }
          ],
          targets: [
            { type: 'hostname', value: 'UBUNTU-SRV-07' }, { type: 'ipv6', value: '2001:db8:10::7' },
            { type: 'mac_address', value: '52:54:00:3a:9c:11' }
          ],
          os: 'Ubuntu 22.04.4 LTS'
        })]
      },
      indicators: { count: 1, docs: [indicator(indicatorId, event, 'Suspicious Medium Network event', 'Medium')] },
      judgements: {
        count: 1,
        docs: [judgement(1, { event, observable: v6, disposition: 3, name: 'Suspicious', reason: 'Network.Beacon', severity: 'Medium' })]
      },
      relationships: {
        count: 3,
        docs: [
          relationship(1, 'based-on', 'transient:judgement-1', indicatorId),
          relationship(2, 'based-on', 'transient:sighting-1', 'transient:judgement-1'),
          relationship(3, 'sighting-of', 'transient:sighting-1', indicatorId)
        ]
      }
    }
  })
  const filters = sim.calls.filter((c) => c.path === 'events').map((c) => c.filter)
  t.ok(filters.every((f) => f === 'network.local.address.ip: "2001:db8:beef::35" or network.remote.address.ip: "2001:db8:beef::35"'),
    'queried exactly as an ip')
})

t.test('golden: an event without any time is observed at the request time', async (t) => {
  const { observe } = await setup(t)
  const answer = await observe([O.fileName])
  const sight = answer.data.sightings.docs.find((d: { external_ids: string[] }) => d.external_ids[0] === EVENT.untimedHistorical)
  t.strictSame(sight.observed_time, { start_time: REQUEST_TIME, end_time: REQUEST_TIME })
  t.strictSame(sight.targets[0].observed_time, { start_time: REQUEST_TIME, end_time: REQUEST_TIME })
})
