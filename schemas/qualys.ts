import type { SupportedType } from './observables.js'

// Domain types shared by the Qualys client, the CTIM builder and the routes, so that none of
// them imports another's module for a type.

// A Qualys IOC event as the API returns it: a JSON object of unknown, loosely typed shape.
export type QualysEvent = Record<string, unknown>

// A supported observable to look up.
export interface Lookup { type: SupportedType, value: string }

// What the lookups found for one observable, per state, in Qualys' order (newest first).
export interface Observation extends Lookup {
  active: QualysEvent[]
  historical: QualysEvent[]
}

// The Qualys credential and per-request settings a relay request carries (from its JWT).
export interface Credentials {
  user: string
  pass: string
  apiUrl?: string
  platformUrl?: string
  limit: number
}

// A Qualys API token and when the relay stops using it (shortly before it expires).
export interface QualysToken { token: string, expiresAt: number }

// Qualys' API budget as its X-RateLimit-* headers said on one answer.
export interface Budget { limit: number, remaining: number, windowSec?: number }

// One credential's view of its budget, shared by the replicas (SPEC §12): what the last headers
// said (when), the relay's own calls, and since when the current window is believed to run.
export interface BudgetView {
  limit: number
  windowSec?: number
  seenAt: number // epoch ms of the last answer with the headers
  counted: number // calls Qualys had counted in the window then (limit − X-RateLimit-Remaining)
  start: number // epoch ms: the window's start as far as the answers tell (a reset, or the first answer)
  base: number // calls Qualys had counted at `start`
  own: number // calls the relay sent since `start`
  inflight: number // calls the relay sent that have not come back yet
}

// A Qualys answer kept by the lookup cache: its status and body (headers are not replayed).
export interface CachedAnswer { status: number, text: string }

// Where the Qualys client logs (a request's logger, or the app's for what serves every request).
export interface Log {
  error: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

// What the client reports for metrics: a call's outcome (HTTP status, retry, cache hit…).
export type OnCall = (outcome: string) => void

// A batched query Qualys refused for its size or syntax (its status: 400, 413, 414 or 431).
export interface Refused { refused: number }

export type EventState = 'active' | 'historical'

export interface EventsRequest {
  filter: string
  pageSize: number
  pageNumber?: number // 0-based; left out for the first page
  state: EventState
  batch?: boolean // a refusal for size or syntax (400, 413, 414, 431) is returned, never "no events"
}

// The one function the lookup planner depends on: a page of events of one filter and state,
// newest first (a cached lookup), or the refusal of a batched query.
export type Events = (request: EventsRequest) => Promise<QualysEvent[] | Refused>
