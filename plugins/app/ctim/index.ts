import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Indicator, Judgement, ObserveData, Relationship, Severity, Sighting } from '../../../schemas/ctim.js'
import type { Observation } from '../../../schemas/qualys.js'
import { indicator, judgement, relationship, sighting, type Uuid4 } from './documents.js'
import { str } from '../../../lib/event-fields.js'
import { score, SEVERITY } from './mapping.js'
import { verdicts } from './verdicts.js'

// SPEC §5: docs in request order, Active then Historical; each kind cut at `limit` per observable.
export function createCtimBuilder (uuid4: Uuid4 = randomUUID) {
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
        const sight = sighting(uuid4, event, eventId, observable, isActive, severity, now)
        sightings.push(sight); s++
        let ind: Indicator | undefined
        if (sc !== undefined && i < limit) {
          ind = indicator(eventId, sc, severity)
          indicators.push(ind); i++
        }
        const entries = Array.isArray(event.indicator2) ? event.indicator2 : []
        const kept = entries.slice(0, Math.max(0, limit - j)).map((entry) => judgement(uuid4, eventId, entry, observable, severity))
        judgements.push(...kept); j += kept.length
        if (ind !== undefined) for (const jd of kept) relationships.push(relationship(uuid4, 'based-on', jd.id, ind.id))
        for (const jd of kept) relationships.push(relationship(uuid4, 'based-on', sight.id, jd.id))
        if (ind !== undefined) relationships.push(relationship(uuid4, 'sighting-of', sight.id, ind.id))
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
