import { AUTH_REASON, ERRORS, example } from './error-catalogue.js'

// Examples for the OpenAPI document (/docs), kept beside the schemas they illustrate; a test
// validates each one against its own schema (test/routes/examples.test.ts), so an example can
// never drift from the contract. The observables are the demo's own: "Try it out" against
// `npm run demo` finds sightings for every supported type.

export const OBSERVABLES_EXAMPLE = [
  { type: 'sha256', value: '4ad5e3c4ea0b3a8c84a5ba9ec4e8f0cd1cd26fbb54e1e01b54b0e6e0cc9a0f34' },
  { type: 'md5', value: '7353f60b1739074eb17c5f4dddefe239' },
  { type: 'file_name', value: 'bublik.exe' },
  { type: 'file_path', value: 'C:\\Users\\User01\\Downloads\\Malware' },
  { type: 'ip', value: '23.38.112.137' },
  { type: 'ipv6', value: '2001:db8:beef::35' },
  { type: 'domain', value: 'tor-exit.example-relay.net' },
  { type: 'mutex', value: 'MSFTHISTORY!' }
]

const V6 = { type: 'ipv6', value: '2001:db8:beef::35' }
const EVENT = 'N_3e8a1c52-7d94-4b0f-a6e2-91c5d8f7b304_-5501238740021937655_2212'
const SIGHTING_ID = 'transient:sighting-0c3a4b9e-2f1d-4e8a-9b7c-5d6e7f8a9b0c'
const INDICATOR_ID = 'transient:indicator-57f9489e-03c4-5790-add0-a4932b2c1486'
const JUDGEMENT_ID = 'transient:judgement-7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b'
const TIME = { start_time: '2020-03-18T08:05:41.000Z', end_time: '2020-03-18T08:05:41.000Z' }
const SRC = { schema_version: '1.0.17', source: 'Qualys IOC' }

export const SIGHTING_EXAMPLE = {
  id: SIGHTING_ID,
  type: 'sighting',
  ...SRC,
  external_ids: [EVENT],
  confidence: 'High',
  count: 1,
  external_references: [],
  observables: [V6],
  observed_time: TIME,
  relations: [
    { origin: 'Qualys IOC', relation: 'Connected_To', source: { type: 'file_name', value: 'curl' }, related: V6 },
    { origin: 'Qualys IOC', relation: 'Resolved_To', source: V6, related: { type: 'domain', value: 'c2.ipv6-beacon.example' } }
  ],
  severity: 'Medium',
  sensor: 'endpoint',
  targets: [{
    type: 'endpoint',
    observables: [{ type: 'hostname', value: 'UBUNTU-SRV-07' }, { type: 'ipv6', value: '2001:db8:10::7' }, { type: 'mac_address', value: '52:54:00:3a:9c:11' }],
    observed_time: TIME,
    os: 'Ubuntu 22.04.4 LTS'
  }],
  description: 'A Qualys IOC event related to "2001:db8:beef::35"',
  data: { columns: [{ name: 'Active', type: 'string' }], rows: [['True']], row_count: 1 }
}

export const INDICATOR_EXAMPLE = {
  id: INDICATOR_ID,
  type: 'indicator',
  ...SRC,
  external_ids: [EVENT],
  title: 'Suspicious Medium Network event',
  producer: 'Qualys IOC',
  severity: 'Medium',
  valid_time: {},
  confidence: 'High'
}

export const JUDGEMENT_EXAMPLE = {
  id: JUDGEMENT_ID,
  type: 'judgement',
  ...SRC,
  external_ids: [EVENT],
  confidence: 'High',
  disposition: 3,
  disposition_name: 'Suspicious',
  external_references: [],
  observable: V6,
  priority: 90,
  reason: 'Network.Beacon',
  severity: 'Medium',
  valid_time: {}
}

export const RELATIONSHIP_EXAMPLE = {
  id: 'transient:relationship-3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a',
  type: 'relationship',
  ...SRC,
  external_ids: [],
  relationship_type: 'sighting-of',
  source_ref: SIGHTING_ID,
  target_ref: INDICATOR_ID
}

export const VERDICT_EXAMPLE = {
  type: 'verdict',
  observable: V6,
  disposition: 3,
  disposition_name: 'Suspicious',
  valid_time: { start_time: '2026-11-28T12:00:00.000Z', end_time: '2026-12-05T12:00:00.000Z' }
}

// The relay's error entries (SPEC §2, §6), as XDR reads them inside an HTTP 200.
export const ERROR_EXAMPLES = {
  authorization: example(ERRORS.authorization, { reason: AUTH_REASON.missingHeader }),
  invalid: example(ERRORS.invalidPayload, { detail: '{"0": {"value": ["Missing data for required field."]}}' }),
  timeout: example(ERRORS.timeout, { ms: 25000 }),
  throttled: example(ERRORS.tooManyRequests),
  unquotable: example(ERRORS.unquotable, { name: 'file name', value: JSON.stringify('say "hi".exe') })
}

// Named examples of an answer: what was found, and the relay's error shapes around it.
export function answerExamples (found: unknown, what: string) {
  return {
    found: { summary: what, value: { data: found } },
    partial: { summary: 'Part found, one Qualys call timed out (the rest is kept)', value: { data: found, errors: [ERROR_EXAMPLES.timeout] } },
    unauthorized: { summary: 'No or a bad token', value: { errors: [ERROR_EXAMPLES.authorization] } },
    invalid: { summary: 'A malformed body', value: { errors: [ERROR_EXAMPLES.invalid] } },
    throttled: { summary: 'Qualys throttled the calls after retries', value: { errors: [ERROR_EXAMPLES.throttled] } }
  }
}

export const REFER_EXAMPLE = [{
  id: 'ref-qualys-search-ipv6-2001%3Adb8%3Abeef%3A%3A35',
  title: 'Search for this IPv6',
  description: 'Check this IPv6 status with Qualys',
  url: 'https://qualysguard.qg2.apps.qualys.com/ioc/#/hunting?search=network.local.address.ip%3A%20%222001%3Adb8%3Abeef%3A%3A35%22%20or%20network.remote.address.ip%3A%20%222001%3Adb8%3Abeef%3A%3A35%22',
  categories: ['Search', 'Qualys']
}]

const SPAN = { start_time: '2026-11-21T12:00:00.000Z', end_time: '2026-11-28T12:00:00.000Z' }
const TILE_COMMON = { observed_time: SPAN, valid_time: { start_time: '2026-11-28T12:00:00.000Z', end_time: '2026-11-28T12:15:00.000Z' }, cache_scope: 'org', hide_legend: false }

export const TILE_DATA_EXAMPLES = {
  metric_group: {
    summary: 'qualys-ioc-event-summary',
    value: {
      data: {
        ...TILE_COMMON,
        data: [
          { icon: 'view-metadata', label: 'Events', value: 1342, value_unit: 'integer' },
          { icon: 'critical-stop', label: 'Malicious', value: 12, value_unit: 'integer' },
          { icon: 'warning', label: 'Suspicious', value: 87, value_unit: 'integer' }
        ]
      }
    }
  },
  donut_graph: {
    summary: 'qualys-ioc-events-by-type',
    value: {
      data: {
        ...TILE_COMMON,
        label_headers: ['Event type', 'Events'],
        labels: [['File', 'Process', 'Network', 'Mutex', 'Registry'], ['Events']],
        data: [
          { key: 0, value: 610, segments: [{ key: 0, value: 610 }] }, { key: 1, value: 402, segments: [{ key: 0, value: 402 }] },
          { key: 2, value: 250, segments: [{ key: 0, value: 250 }] }, { key: 3, value: 64, segments: [{ key: 0, value: 64 }] },
          { key: 4, value: 16, segments: [{ key: 0, value: 16 }] }
        ]
      }
    }
  },
  vertical_bar_chart: {
    summary: 'qualys-ioc-events-over-time (last_24_hours: six 4-hour bars)',
    value: {
      data: {
        ...TILE_COMMON,
        observed_time: { start_time: '2026-11-27T12:00:00.000Z', end_time: '2026-11-28T12:00:00.000Z' },
        key_type: 'timestamp',
        keys: [{ key: 'events', label: 'Events' }],
        data: [0, 1, 2, 3, 4, 5].map((i) => {
          const value = [31, 12, 8, 40, 55, 29][i] as number
          const start = Date.parse('2026-11-27T12:00:00.000Z') + i * 4 * 3_600_000
          const label = `${new Date(start).toISOString().slice(11, 16)}–${new Date(start + 4 * 3_600_000).toISOString().slice(11, 16)}`
          return { key: start, label, value, values: [{ key: 'events', value, tooltip: `${value} events` }] }
        })
      }
    }
  },
  markdown: {
    summary: 'qualys-ioc-latest-malicious',
    value: {
      data: {
        ...TILE_COMMON,
        data: [
          '| Time (UTC) | Host | Type | Name | Score |', '| --- | --- | --- | --- | --- |',
          '| 2026-11-28 09:14:02 | WIN7-HOST-01 | FILE | bublik.exe | 9 |',
          '', '[Hunt for them in Qualys](https://qualysguard.qg2.apps.qualys.com/ioc/#/hunting?search=indicator.score%3E%3D8)'
        ]
      }
    }
  }
}
