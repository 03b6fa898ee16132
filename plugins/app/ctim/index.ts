import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import {
  DISPOSITIONS, MAX_DESCRIPTION, MAX_SHORT, SCHEMA_VERSION,
  type CtimObservable, type Indicator, type Judgement, type ObserveData, type Relationship,
  type Severity, type Sighting
} from '../../../schemas/ctim.js'
import type { Observation, QualysEvent } from '../../../schemas/qualys.js'
import { cut, ipType, RELATIONS, rfc3339, score, SEVERITY, SOURCE, str, TITLES, uuid5, VERDICTS } from './mapping.js'

import { verdicts } from './verdicts.js'

export { rfc3339 } from './mapping.js'

// Documents are built as plain literals with every key in place (no spreads of shared parts,
// no conditional spreads): a 100-event answer builds ~600 objects, and that allocation is most
// of the relay's own CPU time (npm run bench, "relay CPU per answer").
export function createCtimBuilder (uuid4: () => string = randomUUID) {
  const ids = (eventId: string | undefined) => eventId === undefined ? [] : [eventId]

  // `now`: the request time, for an event without any time (CTIM requires a start_time).
  function sighting (event: QualysEvent, eventId: string | undefined, observable: CtimObservable, active: boolean, severity: Severity, now: string): Sighting {
    const time = rfc3339(str(event, 'dateTime')) ?? rfc3339(str(event, 'eventProcessedTime')) ?? now
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
    const target: Sighting['targets'][number] = { type: 'endpoint', observables: targetObservables, observed_time: { start_time: time, end_time: time } }
    const os = str(event, 'asset.fullOSName')
    if (os !== undefined) target.os = cut(os, MAX_SHORT)
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
      relations,
      severity,
      sensor: 'endpoint',
      targets: [target],
      description: cut(`A Qualys IOC event related to "${observable.value}"`, MAX_DESCRIPTION),
      data: { columns: [{ name: 'Active', type: 'string' }], rows: [[active ? 'True' : 'False']], row_count: 1 }
    }
  }

  function indicator (eventId: string | undefined, s: number, severity: Severity): Indicator {
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

  function judgement (eventId: string | undefined, entry: unknown, observable: CtimObservable, severity: Severity): Judgement {
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

  const relationship = (type: string, source: string, target: string): Relationship => ({
    id: `transient:relationship-${uuid4()}`,
    type: 'relationship',
    schema_version: SCHEMA_VERSION,
    source: SOURCE,
    external_ids: [],
    relationship_type: type,
    source_ref: source,
    target_ref: target
  })

  // SPEC §5: docs in request order, Active then Historical; each kind cut at `limit` per observable.
  return function build (observations: Observation[], limit: number, requestTime: Date = new Date()): ObserveData {
    const now = requestTime.toISOString()
    const sightings: Sighting[] = []
    const indicators: Indicator[] = []
    const judgements: Judgement[] = []
    const relationships: Relationship[] = []
    for (const { type, value, active, historical } of observations) {
      const observable = { type, value }
      let s = 0; let i = 0; let j = 0
      const events = [...active.map((e) => [e, true] as const), ...historical.map((e) => [e, false] as const)]
      for (const [event, isActive] of events) {
        if (s >= limit) break
        const sc = score(event)
        const severity: Severity = sc === undefined || Number.isNaN(sc) ? 'Unknown' : SEVERITY[sc] as Severity
        const eventId = str(event, 'id')
        const sight = sighting(event, eventId, observable, isActive, severity, now)
        sightings.push(sight); s++
        let ind: Indicator | undefined
        if (sc !== undefined && i < limit) {
          ind = indicator(eventId, sc, severity)
          indicators.push(ind); i++
        }
        const entries = Array.isArray(event.indicator2) ? event.indicator2 : []
        const kept = entries.slice(0, Math.max(0, limit - j)).map((entry) => judgement(eventId, entry, observable, severity))
        judgements.push(...kept); j += kept.length
        if (ind !== undefined) for (const jd of kept) relationships.push(relationship('based-on', jd.id, ind.id))
        for (const jd of kept) relationships.push(relationship('based-on', sight.id, jd.id))
        if (ind !== undefined) relationships.push(relationship('sighting-of', sight.id, ind.id))
      }
    }
    const data: ObserveData = {}
    if (sightings.length > 0) data.sightings = { count: sightings.length, docs: sightings }
    if (indicators.length > 0) data.indicators = { count: indicators.length, docs: indicators }
    if (judgements.length > 0) data.judgements = { count: judgements.length, docs: judgements }
    if (relationships.length > 0) data.relationships = { count: relationships.length, docs: relationships }
    return data
  }
}

export type CtimBuilder = ReturnType<typeof createCtimBuilder>

declare module 'fastify' {
  interface FastifyInstance {
    ctim: CtimBuilder
    verdicts: typeof verdicts
  }
}

// The CTIM document builder (SPEC §5) and the verdicts over its judgements (§11) as decorators.
export default fp(async function ctimPlugin (fastify: FastifyInstance) {
  fastify.decorate('ctim', createCtimBuilder())
  fastify.decorate('verdicts', verdicts)
}, { name: 'ctim' })
