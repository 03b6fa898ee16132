import {
  DISPOSITIONS, MAX_DESCRIPTION, MAX_SHORT, SCHEMA_VERSION,
  type CtimObservable, type Indicator, type Judgement, type Relationship, type Severity, type Sighting
} from '../../../schemas/ctim.js'
import type { QualysEvent } from '../../../schemas/qualys.js'
import { rfc3339, str } from '../../../lib/event-fields.js'
import { cut, ipType, RELATIONS, SOURCE, TITLES, uuid5, VERDICTS } from './mapping.js'

// One CTIM document each (SPEC §5). Documents are built as plain literals with every key in place
// (no spreads of shared parts, no conditional spreads): a 100-event answer builds ~600 objects,
// and that allocation is most of the relay's own CPU time (npm run bench, "relay CPU per answer").
const ids = (eventId: string | undefined) => eventId === undefined ? [] : [eventId]

export type Uuid4 = () => string

// The endpoint the event happened on: its host name, addresses (typed by family) and MACs.
function target (event: QualysEvent, time: string): Sighting['targets'][number] {
  const targetObservables: CtimObservable[] = []
  const host = str(event, 'asset.netBiosName')
  if (host !== undefined) targetObservables.push({ type: 'hostname', value: host })
  const interfaces = (event.asset as { interfaces?: unknown } | undefined)?.interfaces
  if (Array.isArray(interfaces)) {
    for (const nic of interfaces) {
      const ip = str(nic, 'ipAddress')
      const mac = str(nic, 'macAddress')
      const type = ip === undefined ? undefined : ipType(ip)
      if (type !== undefined) targetObservables.push({ type, value: ip as string })
      if (mac !== undefined) targetObservables.push({ type: 'mac_address', value: mac })
    }
  }
  const found: Sighting['targets'][number] = { type: 'endpoint', observables: targetObservables, observed_time: { start_time: time, end_time: time } }
  const os = str(event, 'asset.fullOSName')
  if (os !== undefined) found.os = cut(os, MAX_SHORT)
  return found
}

// SPEC §5's sighting relations, each only when both values are present.
function relationsOf (event: QualysEvent): Sighting['relations'] {
  const relations: Sighting['relations'] = []
  for (const [from, fromType, relation, to, toType] of RELATIONS) {
    const a = str(event, from)
    if (a === undefined) continue
    const b = str(event, to)
    if (b === undefined) continue
    // An address is typed by its family (ipv6 is its own CTIM type); a non-address is left out.
    const sourceType = fromType === 'ip' ? ipType(a) : fromType
    const relatedType = toType === 'ip' ? ipType(b) : toType
    if (sourceType === undefined || relatedType === undefined) continue
    relations.push({ origin: SOURCE, relation, source: { type: sourceType, value: a }, related: { type: relatedType, value: b } })
  }
  return relations
}

// `now`: the request time, for an event without any time (CTIM requires a start_time).
export function sighting (uuid4: Uuid4, event: QualysEvent, eventId: string | undefined, observable: CtimObservable, active: boolean, severity: Severity, now: string): Sighting {
  const time = rfc3339(str(event, 'dateTime')) ?? rfc3339(str(event, 'eventProcessedTime')) ?? now
  return {
    id: `transient:sighting-${uuid4()}`,
    type: 'sighting',
    schema_version: SCHEMA_VERSION,
    source: SOURCE,
    external_ids: ids(eventId),
    confidence: 'High',
    count: 1,
    external_references: [],
    observables: [observable],
    observed_time: { start_time: time, end_time: time },
    relations: relationsOf(event),
    severity,
    sensor: 'endpoint',
    targets: [target(event, time)],
    description: cut(`A Qualys IOC event related to "${observable.value}"`, MAX_DESCRIPTION),
    data: { columns: [{ name: 'Active', type: 'string' }], rows: [[active ? 'True' : 'False']], row_count: 1 }
  }
}

export function indicator (eventId: string | undefined, s: number, severity: Severity): Indicator {
  return {
    id: `transient:indicator-${uuid5(eventId ?? '')}`,
    type: 'indicator',
    schema_version: SCHEMA_VERSION,
    source: SOURCE,
    external_ids: ids(eventId),
    title: TITLES[s] ?? 'Qualys IOC event',
    producer: SOURCE,
    severity,
    valid_time: {},
    confidence: 'High'
  }
}

export function judgement (uuid4: Uuid4, eventId: string | undefined, entry: unknown, observable: CtimObservable, severity: Severity): Judgement {
  const raw = (entry as { verdict?: unknown } | null)?.verdict
  const verdict = Array.isArray(raw) ? raw[0] : raw
  const disposition = VERDICTS[typeof verdict === 'string' ? verdict.toUpperCase() : ''] ?? 5
  const doc = {
    id: `transient:judgement-${uuid4()}`,
    type: 'judgement',
    schema_version: SCHEMA_VERSION,
    source: SOURCE,
    external_ids: ids(eventId),
    confidence: 'High',
    disposition,
    disposition_name: DISPOSITIONS[disposition],
    external_references: [],
    observable,
    priority: 90,
    severity,
    valid_time: {}
  } as Judgement
  const reason = str(entry, 'threatName')
  if (reason !== undefined) doc.reason = cut(reason, MAX_SHORT)
  return doc
}

export const relationship = (uuid4: Uuid4, type: string, source: string, to: string): Relationship => ({
  id: `transient:relationship-${uuid4()}`,
  type: 'relationship',
  schema_version: SCHEMA_VERSION,
  source: SOURCE,
  external_ids: [],
  relationship_type: type,
  source_ref: source,
  target_ref: to
})
