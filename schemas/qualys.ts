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

// Qualys' API budget as its X-RateLimit-* headers last said, per account.
export interface Budget { limit: number, remaining: number, windowSec?: number }

// A Qualys answer kept by the lookup cache: its status and body (headers are not replayed).
export interface CachedAnswer { status: number, text: string }
