// Hand-written expectations for the simulator's fixtures (simulator/fixtures/events.json).
// Every varying value (times, severities, titles, dispositions, targets, relations) is spelled out
// per document; the constructors below only fill the fields SPEC §5 fixes for every document.
// Random ids appear as transient:<type>-<n>, numbered in order of first appearance; indicator
// ids are uuid5(X500, event id), computed with Python's uuid module.

type Obs = { type: string, value: string }
const SRC = { schema_version: '1.0.17', source: 'Qualys IOC' }
// An event without any time is observed at the request time (CTIM requires a start_time); the
// golden test puts this marker where the answer holds a time taken during the request.
export const REQUEST_TIME = '<the request time>'
const time = (t = REQUEST_TIME) => ({ start_time: t, end_time: t })

export const SHA = '4ad5e3c4ea0b3a8c84a5ba9ec4e8f0cd1cd26fbb54e1e01b54b0e6e0cc9a0f34'
export const SHA_UPPER = SHA.toUpperCase()
export const BUBLIK_MD5 = '6f8d12a1b0c9e7d5a4f3b2c1d0e9f8a7'
export const PS_MD5 = '7353f60b1739074eb17c5f4dddefe239'
export const MALWARE_DIR = 'C:\\Users\\User01\\Downloads\\Malware'
const BUBLIK_PATH = 'C:\\Users\\User01\\Downloads\\Malware\\bublik\\bublik.exe'
const TEMP_PATH = 'C:\\Users\\User01\\AppData\\Local\\Temp\\bublik.exe'
const WIN7 = 'Microsoft Windows 7 Professional 6.1.7601 Service Pack 1 Build 7601'

export const EVENT = {
  fileActive: 'F_5b49017b-90dd-4a6d-92ea-7651bafdc1ec_1529094529078014264',
  processActive: 'P_7c1e9a40-3b2d-4f5e-8a61-0d9c2b7e4f13_-4411382927465283019',
  networkActive: 'N_2508c73e-2309-37e9-a049-d2b0e3a05036_-2272388056076390980_1052',
  mutexActive: 'M_5b49017b-90dd-4a6d-92ea-7651bafdc1ec_8812734659110023_4040',
  fileHistorical: 'F_5ab4ee62-6c0a-4c8e-9b0e-3f1d2a9c7b55_10-2-2020',
  mutexHistorical: 'M_5b49017b-90dd-4a6d-92ea-7651bafdc1ec_3-3-2020',
  networkHistorical: 'N_9d3f0b2a-1e4c-4b7d-8f60-5a2c1e9d7b31_21-4-2020',
  untimedHistorical: 'F_0c7d2e91-8b3a-4f1c-9e55-6a4b3c2d1e0f_2-1-2020'
}

export const INDICATOR_ID = {
  fileActive: 'transient:indicator-9a034ea3-71e4-5d1b-b78b-d027b607caf0',
  processActive: 'transient:indicator-af484a17-60ff-548b-81d0-5a07d26c50f9',
  networkActive: 'transient:indicator-87b899a8-a5c1-5365-ac4f-233d9b6eef4f',
  mutexHistorical: 'transient:indicator-1506c3c5-0956-52c6-945a-c0639e699157',
  networkHistorical: 'transient:indicator-a5226e67-76ba-53e2-9ee1-336ed1c9d1c4',
  untimedHistorical: 'transient:indicator-58512a24-3cb7-5ec8-bc33-8e3678d26451'
}

const rel = (relation: string, source: Obs, related: Obs) => ({ origin: 'Qualys IOC', relation, source, related })

export function sighting (n: number, o: {
  observable: Obs,
  event: string,
  time?: string,
  active: boolean,
  severity: string,
  relations: unknown[],
  targets: Obs[],
  os?: string
}) {
  return {
    id: `transient:sighting-${n}`,
    type: 'sighting',
    ...SRC,
    confidence: 'High',
    count: 1,
    external_ids: [o.event],
    external_references: [],
    observables: [o.observable],
    observed_time: time(o.time),
    relations: o.relations,
    severity: o.severity,
    sensor: 'endpoint',
    targets: [{ type: 'endpoint', observables: o.targets, observed_time: time(o.time), ...(o.os === undefined ? {} : { os: o.os }) }],
    description: `A Qualys IOC event related to "${o.observable.value}"`,
    data: { columns: [{ name: 'Active', type: 'string' }], rows: [[o.active ? 'True' : 'False']], row_count: 1 }
  }
}

export const indicator = (id: string, event: string, title: string, severity: string) => ({
  id, type: 'indicator', ...SRC, title, producer: 'Qualys IOC', severity, valid_time: {}, external_ids: [event], confidence: 'High'
})

export const judgement = (n: number, o: { event: string, observable: Obs, disposition: number, name: string, reason?: string, severity: string }) => ({
  id: `transient:judgement-${n}`,
  type: 'judgement',
  ...SRC,
  confidence: 'High',
  disposition: o.disposition,
  disposition_name: o.name,
  external_ids: [o.event],
  external_references: [],
  observable: o.observable,
  priority: 90,
  ...(o.reason === undefined ? {} : { reason: o.reason }),
  severity: o.severity,
  valid_time: {}
})

export const relationship = (n: number, type: string, source: string, target: string) => ({
  id: `transient:relationship-${n}`, type: 'relationship', ...SRC, relationship_type: type, source_ref: source, target_ref: target, external_ids: []
})

const S = (n: number) => `transient:sighting-${n}`
const J = (n: number) => `transient:judgement-${n}`

// Targets and relations of the fixture events, as read off events.json by hand.
const win7Targets = [{ type: 'hostname', value: 'WIN7-HOST-01' }, { type: 'ip', value: '10.10.10.29' },
  { type: 'mac_address', value: '00:50:56:a1:2b:3c' }, { type: 'ipv6', value: 'fe80::c1d2:3e4f:5a6b:7c8d' }]
const bublikRelations = [
  rel('File_Name_Of', { type: 'file_name', value: 'bublik.exe' }, { type: 'sha256', value: SHA }),
  rel('File_Name_Of', { type: 'file_name', value: 'bublik.exe' }, { type: 'md5', value: BUBLIK_MD5 }),
  rel('File_Path_Of', { type: 'file_path', value: BUBLIK_PATH }, { type: 'sha256', value: SHA }),
  rel('File_Path_Of', { type: 'file_path', value: BUBLIK_PATH }, { type: 'md5', value: BUBLIK_MD5 })
]

export const OBSERVABLES = {
  sha256: { type: 'sha256', value: SHA },
  md5: { type: 'md5', value: PS_MD5 },
  fileName: { type: 'file_name', value: 'mystery.bin' },
  filePath: { type: 'file_path', value: MALWARE_DIR },
  ip: { type: 'ip', value: '23.38.112.137' },
  domain: { type: 'domain', value: 'tor-exit.example-relay.net' },
  mutex: { type: 'mutex', value: 'MSFTHISTORY!' }
}
const O = OBSERVABLES

export const S_FILE_ACTIVE = (n: number, observable: Obs) => sighting(n, {
  observable,
  event: EVENT.fileActive,
  time: '2020-03-17T12:19:31.000Z',
  active: true,
  severity: 'High',
  relations: bublikRelations,
  targets: win7Targets,
  os: WIN7
})
export const S_FILE_HISTORICAL = (n: number) => sighting(n, {
  observable: O.sha256,
  event: EVENT.fileHistorical,
  time: '2020-02-10T09:15:00.250Z',
  active: false,
  severity: 'Unknown',
  relations: [
    rel('File_Name_Of', { type: 'file_name', value: 'bublik.exe' }, { type: 'sha256', value: SHA_UPPER }),
    rel('File_Path_Of', { type: 'file_path', value: TEMP_PATH }, { type: 'sha256', value: SHA_UPPER })
  ],
  targets: [{ type: 'hostname', value: 'WIN10-LAB-03' }]
})
export const I_FILE_ACTIVE = indicator(INDICATOR_ID.fileActive, EVENT.fileActive, 'Malicious File event', 'High')
export const J_FILE_ACTIVE = (n: number, observable: Obs) => [
  judgement(n, { event: EVENT.fileActive, observable, disposition: 2, name: 'Malicious', reason: 'Trojan.Bublik', severity: 'High' }),
  judgement(n + 1, { event: EVENT.fileActive, observable, disposition: 3, name: 'Suspicious', reason: 'Heur.Packed', severity: 'High' })
]
export const J_FILE_HISTORICAL = (n: number) =>
  judgement(n, { event: EVENT.fileHistorical, observable: O.sha256, disposition: 5, name: 'Unknown', severity: 'Unknown' })

// POST /observe/observables with one observable of each type (plus an ignored type and a duplicate).
export const ALL_TYPES_REQUEST = [
  O.sha256, O.md5, { type: 'email', value: 'someone@example.com' }, O.fileName, O.filePath, O.ip, O.domain, O.mutex,
  { type: 'ip', value: '23.38.112.137' }
]

export const ALL_TYPES_ANSWER = {
  data: {
    sightings: {
      count: 9,
      docs: [
        S_FILE_ACTIVE(1, O.sha256),
        S_FILE_HISTORICAL(2),
        sighting(3, {
          observable: O.md5,
          event: EVENT.processActive,
          time: '2024-09-16T08:02:11.357Z',
          active: true,
          severity: 'Medium',
          relations: [],
          targets: [{ type: 'hostname', value: 'DESKTOP-FIN-07' }],
          os: 'Microsoft Windows 10 Enterprise 10.0.19045 64-bit N/A Build 19045'
        }),
        sighting(4, { observable: O.fileName, event: EVENT.untimedHistorical, active: false, severity: 'Unknown', relations: [], targets: [] }),
        S_FILE_ACTIVE(5, O.filePath),
        sighting(6, {
          observable: O.ip,
          event: EVENT.networkActive,
          time: '2020-02-10T00:21:04.000Z',
          active: true,
          severity: 'None',
          relations: [
            rel('Connected_To', { type: 'file_name', value: 'QualysAgent.exe' }, { type: 'ip', value: '23.38.112.137' }),
            rel('Connected_To', { type: 'file_name', value: 'QualysAgent.exe' },
              { type: 'domain', value: 'a23-38-112-137.deploy.static.akamaitechnologies.com' }),
            rel('Resolved_To', { type: 'ip', value: '23.38.112.137' },
              { type: 'domain', value: 'a23-38-112-137.deploy.static.akamaitechnologies.com' })
          ],
          targets: [{ type: 'ip', value: '10.10.10.29' }, { type: 'mac_address', value: '00:50:56:a1:2b:3c' }],
          os: 'Microsoft Windows Server 2016 Standard 10.0.14393 64-bit N/A Build 14393'
        }),
        sighting(7, {
          observable: O.domain,
          event: EVENT.networkHistorical,
          time: '2020-04-21T03:33:47.512Z',
          active: false,
          severity: 'High',
          relations: [
            rel('Connected_To', { type: 'file_name', value: 'chrome.exe' }, { type: 'ip', value: '185.220.101.4' }),
            rel('Connected_To', { type: 'file_name', value: 'chrome.exe' }, { type: 'domain', value: 'tor-exit.example-relay.net' }),
            rel('Resolved_To', { type: 'ip', value: '185.220.101.4' }, { type: 'domain', value: 'tor-exit.example-relay.net' })
          ],
          targets: [{ type: 'hostname', value: 'MAC-DESIGN-02' }, { type: 'ip', value: '192.168.1.42' },
            { type: 'mac_address', value: 'a4:83:e7:10:22:9b' }],
          os: 'macOS 14.4.1'
        }),
        sighting(8, {
          observable: O.mutex,
          event: EVENT.mutexActive,
          time: '2020-03-17T12:20:02.000Z',
          active: true,
          severity: 'Unknown',
          relations: [],
          targets: win7Targets.slice(0, 3),
          os: WIN7
        }),
        sighting(9, {
          observable: O.mutex,
          event: EVENT.mutexHistorical,
          time: '2020-03-03T17:45:12.000Z',
          active: false,
          severity: 'None',
          relations: [],
          targets: [{ type: 'hostname', value: 'WIN7-HOST-01' }],
          os: WIN7
        })
      ]
    },
    indicators: {
      count: 7,
      docs: [
        I_FILE_ACTIVE,
        indicator(INDICATOR_ID.processActive, EVENT.processActive, 'Suspicious Medium Process event', 'Medium'),
        indicator(INDICATOR_ID.untimedHistorical, EVENT.untimedHistorical, 'Qualys IOC event', 'Unknown'),
        I_FILE_ACTIVE,
        indicator(INDICATOR_ID.networkActive, EVENT.networkActive, 'Known Good', 'None'),
        indicator(INDICATOR_ID.networkHistorical, EVENT.networkHistorical, 'Malicious Network event', 'High'),
        indicator(INDICATOR_ID.mutexHistorical, EVENT.mutexHistorical, 'Known Good', 'None')
      ]
    },
    judgements: {
      count: 11,
      docs: [
        ...J_FILE_ACTIVE(1, O.sha256),
        J_FILE_HISTORICAL(3),
        judgement(4, { event: EVENT.processActive, observable: O.md5, disposition: 3, name: 'Suspicious', reason: 'PowerShell.Obfuscated', severity: 'Medium' }),
        ...J_FILE_ACTIVE(5, O.filePath),
        judgement(7, { event: EVENT.networkActive, observable: O.ip, disposition: 1, name: 'Clean', severity: 'None' }),
        judgement(8, { event: EVENT.networkHistorical, observable: O.domain, disposition: 2, name: 'Malicious', reason: 'Tor.ExitNode', severity: 'High' }),
        judgement(9, { event: EVENT.networkHistorical, observable: O.domain, disposition: 2, name: 'Malicious', reason: 'Tor.ExitNode', severity: 'High' }),
        judgement(10, { event: EVENT.networkHistorical, observable: O.domain, disposition: 5, name: 'Unknown', severity: 'High' }),
        judgement(11, { event: EVENT.mutexHistorical, observable: O.mutex, disposition: 1, name: 'Clean', reason: 'Windows.Shell', severity: 'None' })
      ]
    },
    relationships: {
      count: 28,
      docs: [
        relationship(1, 'based-on', J(1), INDICATOR_ID.fileActive),
        relationship(2, 'based-on', J(2), INDICATOR_ID.fileActive),
        relationship(3, 'based-on', S(1), J(1)),
        relationship(4, 'based-on', S(1), J(2)),
        relationship(5, 'sighting-of', S(1), INDICATOR_ID.fileActive),
        relationship(6, 'based-on', S(2), J(3)),
        relationship(7, 'based-on', J(4), INDICATOR_ID.processActive),
        relationship(8, 'based-on', S(3), J(4)),
        relationship(9, 'sighting-of', S(3), INDICATOR_ID.processActive),
        relationship(10, 'sighting-of', S(4), INDICATOR_ID.untimedHistorical),
        relationship(11, 'based-on', J(5), INDICATOR_ID.fileActive),
        relationship(12, 'based-on', J(6), INDICATOR_ID.fileActive),
        relationship(13, 'based-on', S(5), J(5)),
        relationship(14, 'based-on', S(5), J(6)),
        relationship(15, 'sighting-of', S(5), INDICATOR_ID.fileActive),
        relationship(16, 'based-on', J(7), INDICATOR_ID.networkActive),
        relationship(17, 'based-on', S(6), J(7)),
        relationship(18, 'sighting-of', S(6), INDICATOR_ID.networkActive),
        relationship(19, 'based-on', J(8), INDICATOR_ID.networkHistorical),
        relationship(20, 'based-on', J(9), INDICATOR_ID.networkHistorical),
        relationship(21, 'based-on', J(10), INDICATOR_ID.networkHistorical),
        relationship(22, 'based-on', S(7), J(8)),
        relationship(23, 'based-on', S(7), J(9)),
        relationship(24, 'based-on', S(7), J(10)),
        relationship(25, 'sighting-of', S(7), INDICATOR_ID.networkHistorical),
        relationship(26, 'based-on', J(11), INDICATOR_ID.mutexHistorical),
        relationship(27, 'based-on', S(9), J(11)),
        relationship(28, 'sighting-of', S(9), INDICATOR_ID.mutexHistorical)
      ]
    }
  }
}
