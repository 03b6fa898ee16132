import t from 'tap'
import { createCtimBuilder } from '../../plugins/app/ctim/index.js'
import { rfc3339 } from '../../lib/event-fields.js'
import { ctimErrors } from '../helper.js'

const build = createCtimBuilder()
const obs = { type: 'sha256' as const, value: 'abc' }
const NOW = new Date('2026-11-28T12:00:00.000Z')
const one = (event: Record<string, unknown>, limit = 100) => build([{ ...obs, active: [event], historical: [] }], limit, NOW)

t.test('severity and title by score (SPEC §5 tables, written out)', async (t) => {
  const table: Array<[unknown, string, string | undefined]> = [
    ['0', 'None', 'Known Good'], ['1', 'High', 'Remediated'],
    ['2', 'Low', 'Suspicious Low File event'], ['3', 'Low', 'Suspicious Low Process event'], ['4', 'Low', 'Suspicious Low Network event'],
    ['5', 'Medium', 'Suspicious Medium File event'], ['6', 'Medium', 'Suspicious Medium Process event'], ['7', 'Medium', 'Suspicious Medium Network event'],
    ['8', 'High', 'Malicious File event'], ['9', 'High', 'Malicious Process event'], ['10', 'High', 'Malicious Network event'],
    [8, 'High', 'Malicious File event'], [0, 'None', 'Known Good'],
    ['11', 'Unknown', 'Qualys IOC event'], [-1, 'Unknown', 'Qualys IOC event'], ['7.5', 'Unknown', 'Qualys IOC event'],
    ['high', 'Unknown', 'Qualys IOC event'], [true, 'Unknown', 'Qualys IOC event'],
    [null, 'Unknown', undefined], [undefined, 'Unknown', undefined], ['', 'Unknown', undefined]
  ]
  for (const [score, severity, title] of table) {
    const data = one({ id: 'E1', score })
    t.equal(data.sightings?.docs[0]?.severity, severity, `score ${JSON.stringify(score)} → ${severity}`)
    t.equal(data.indicators?.docs[0]?.title, title, `score ${JSON.stringify(score)} → ${title}`)
    t.same(ctimErrors(data as never), [])
  }
})

t.test('dispositions by verdict', async (t) => {
  const table: Array<[unknown, number, string]> = [
    ['KNOWN', 1, 'Clean'], ['known', 1, 'Clean'], ['UNKNOWN', 5, 'Unknown'], ['SUSPICIOUS', 3, 'Suspicious'],
    ['MALICIOUS', 2, 'Malicious'], ['Remediated', 2, 'Malicious'], [['MALICIOUS', 'KNOWN'], 2, 'Malicious'],
    ['QUARANTINED', 5, 'Unknown'], [undefined, 5, 'Unknown'], [42, 5, 'Unknown'], [[], 5, 'Unknown']
  ]
  for (const [verdict, disposition, name] of table) {
    const j = one({ id: 'E1', score: '5', indicator2: [{ verdict, threatName: 'T' }] }).judgements?.docs[0]
    t.match(j, { disposition, disposition_name: name, reason: 'T', priority: 90 }, JSON.stringify(verdict))
  }
  const odd = one({ id: 'E1', indicator2: [null, 'x', { threatName: 7 }] })
  t.same(odd.judgements?.docs.map((j) => [j.disposition, j.reason]), [[5, undefined], [5, undefined], [5, '7']],
    'odd entries still give judgements; no reason where there is no threatName, a number is read as text')
  t.same(ctimErrors(odd as never), [])
})

t.test('times: RFC 3339 UTC from Qualys offsets', async (t) => {
  t.equal(rfc3339('2020-02-10T00:21:04.000+0000'), '2020-02-10T00:21:04.000Z')
  t.equal(rfc3339('2020-02-10T02:21:04.000+0200'), '2020-02-10T00:21:04.000Z')
  t.equal(rfc3339('2020-02-10T00:21:04Z'), '2020-02-10T00:21:04.000Z')
  t.equal(rfc3339('yesterday'), undefined)
  const s = one({ id: 'E', dateTime: 'garbage', eventProcessedTime: '2021-01-01T00:00:00.000+0000' }).sightings?.docs[0]
  t.same(s?.observed_time, { start_time: '2021-01-01T00:00:00.000Z', end_time: '2021-01-01T00:00:00.000Z' }, 'an unreadable dateTime falls back')
})

t.test('missing and empty fields are left out, never null', async (t) => {
  const data = one({ id: 'E', asset: { netBiosName: '', fullOSName: '', interfaces: [{ ipAddress: '', macAddress: 'aa:bb' }, 'junk'] }, file: { fileName: '', sha256: 'x' } })
  const s = data.sightings?.docs[0]
  const requestTime = { start_time: '2026-11-28T12:00:00.000Z', end_time: '2026-11-28T12:00:00.000Z' }
  t.same(s?.observed_time, requestTime, 'an event without any time is observed at the request time')
  t.same(s?.targets, [{ type: 'endpoint', observables: [{ type: 'mac_address', value: 'aa:bb' }], observed_time: requestTime }])
  t.same(s?.relations, [])
  t.notOk(JSON.stringify(data).includes('null'))
  const noId = one({}).sightings?.docs[0]
  t.same(noId?.external_ids, [], 'an event without id')
})

t.test('the limit counts sightings, indicators and judgements per observable', async (t) => {
  const event = (id: string) => ({ id, score: '3', indicator2: [{ verdict: 'KNOWN' }, { verdict: 'KNOWN' }, { verdict: 'KNOWN' }] })
  const data = build([
    { ...obs, active: [event('A1'), event('A2')], historical: [event('H1')] },
    { type: 'md5', value: 'm', active: [event('B1')], historical: [] }
  ], 2)
  t.equal(data.sightings?.count, 3, '2 for the first observable, 1 for the second')
  t.equal(data.indicators?.count, 3)
  t.equal(data.judgements?.count, 2 + 2, 'each observable: its first event’s judgements cut to 2')
  t.equal(data.relationships?.count, (2 + 2 + 1) + 1 + (2 + 2 + 1), 'A2 keeps only its sighting-of')
})

t.test('blank strings are missing; no blank string is ever emitted', async (t) => {
  const data = one({
    id: '  ',
    dateTime: ' ',
    asset: { netBiosName: ' \t', fullOSName: '\n', interfaces: [{ ipAddress: ' ', macAddress: '  ' }] },
    file: { fileName: '   ', sha256: 'x', fullPath: '\u00a0' },
    indicator2: [{ verdict: 'MALICIOUS', threatName: '   ' }]
  })
  const s = data.sightings?.docs[0]
  t.same(s?.external_ids, [])
  t.same(s?.targets[0]?.observables, [])
  t.notOk(s?.targets[0]?.os)
  t.same(s?.relations, [])
  t.notOk(data.judgements?.docs[0]?.reason, 'a blank threatName gives no reason')
  t.same(ctimErrors(data as never), [])
})

t.test('target and relation addresses are typed by family; non-addresses are left out', async (t) => {
  const s = one({
    id: 'E',
    asset: {
      interfaces: [
        { ipAddress: '10.0.0.1' }, { ipAddress: '2001:db8::1', macAddress: 'aa:bb' }, { ipAddress: 'fe80::1%eth0' },
        { ipAddress: 'not an ip' }, { ipAddress: '999.1.1.1' }, { ipAddress: 42 }
      ]
    },
    process: { processName: 'curl' },
    network: { remoteIP: '2001:db8::35', remoteDns: 'c2.example' }
  }).sightings?.docs[0]
  t.same(s?.targets[0]?.observables, [
    { type: 'ip', value: '10.0.0.1' }, { type: 'ipv6', value: '2001:db8::1' }, { type: 'mac_address', value: 'aa:bb' },
    { type: 'ipv6', value: 'fe80::1%eth0' }
  ])
  t.same(s?.relations.map((r) => [r.relation, r.source.type, r.related.type]), [
    ['Connected_To', 'file_name', 'ipv6'], ['Connected_To', 'file_name', 'domain'], ['Resolved_To', 'ipv6', 'domain']
  ])
  const garbage = one({ id: 'E', process: { processName: 'curl' }, network: { remoteIP: 'unknown', remoteDns: 'c2.example' } }).sightings?.docs[0]
  t.same(garbage?.relations.map((r) => r.relation), ['Connected_To'], 'a remoteIP that is no address gives no relation')
})

t.test('texts are cut to CTIM\'s limits', async (t) => {
  const long = 'x'.repeat(10_000)
  const data = build([{ type: 'file_name', value: long, active: [{ id: 'E', asset: { fullOSName: long }, indicator2: [{ threatName: long }] }], historical: [] }], 100, NOW)
  const s = data.sightings?.docs[0]
  t.equal(s?.description.length, 5000)
  t.ok(s?.description.startsWith('A Qualys IOC event related to "xxx'))
  t.ok(s?.description.endsWith('x…'))
  t.equal(s?.targets[0]?.os?.length, 1024)
  t.equal(data.judgements?.docs[0]?.reason?.length, 1024)
  t.equal(s?.observables[0]?.value, long, 'the observable itself is never cut')
  const emoji = build([{ type: 'file_name', value: 'a', active: [{ id: 'E', indicator2: [{ threatName: `${'y'.repeat(1022)}😀😀` }] }], historical: [] }], 100, NOW)
  t.equal(emoji.judgements?.docs[0]?.reason, `${'y'.repeat(1022)}…`, 'never cut inside a surrogate pair')
  t.same(ctimErrors(data as never), [])
})

t.test('times: only ISO date-times are read', async (t) => {
  for (const odd of ['7', '2020', 'Tue, 10 Feb 2020 00:21:04 GMT', '+275760-09-13T00:00:00.000Z', '2020-13-45T99:99:99Z']) {
    t.equal(rfc3339(odd), undefined, odd)
  }
  t.equal(one({ id: 'E', dateTime: 1581294064000 }).sightings?.docs[0]?.observed_time.start_time, '2026-11-28T12:00:00.000Z',
    'a number is no time: the request time')
})
