import type { Fixtures } from './fixtures/index.js'
import type { RateLimit, RateLimiter } from './rate-limit.js'

// The simulator's shapes: what a test injects, what it records, how it is started.

export type Fault =
  // headers may be built when the fault is served (e.g. a Retry-After date relative to that moment)
  | { status: number, headers?: Record<string, string> | (() => Record<string, string>), body?: string }
  | { hang: true } | { reset: true } | { invalidJson: true } | { cutBody: true }
  | { pass: true } // no fault for this call: lets a test aim at the Nth call

export interface SimCall {
  method: string // every request is recorded, whatever its method and path
  target: string // the request target as sent (path and query, encoded)
  path: 'auth' | ApiPath | 'other'
  user?: string
  token?: string
  filter?: string
  pageSize?: number
  pageNumber?: number
  state?: string
  sort?: string
  status: number
  at: number // ms since the simulator started, when the call arrived
}

// GET /ioc/events (a page of events), /ioc/events/count ({"count": n}, same filter and state) and
// /ioc/events/count/time-buckets (fromDate, toDate in epoch seconds, bucketCount, filter).
export type ApiPath = 'events' | 'count' | 'buckets'

export interface SimulatorOptions {
  accounts?: Record<string, string>
  fixtures?: Fixtures
  tenants?: Record<string, Fixtures> // per-user events: what a call returns depends on whose token it carries
  latencyMs?: number
  tokenTtlS?: number
  concurrencyLimitHeader?: number // sent as X-Concurrency-Limit-Limit
  // Qualys' API budget: X-RateLimit-Limit/-Remaining/-Window-Sec on every API answer, and 429
  // with X-RateLimit-ToWait-Sec once it is spent (rate-limit.ts: the subscription's, by default).
  rateLimit?: RateLimit
  // A front end that refuses request targets longer than `bytes` (Netty-based gateways: 4,096),
  // with `status` (414 by default; some answer 400 or 431) and an HTML page, as qualys-api.md §2.6 says.
  targetLimit?: { bytes: number, status?: number }
  // Where the docs are silent, variants a tenant might play (the tenant check detects each):
  // Time buckets on multiples of their width (documented), cut from fromDate, or on a grid of the
  // tenant's own, 7 minutes after those multiples (the first bucket the one starting at or after
  // fromDate): keys and cuts off the relay's bars, within them.
  bucketAlignment?: 'epoch' | 'from' | 'late'
  // How bucket keys spell their times: as the docs' sample (2025-11-26T04:48:00.000Z), without
  // milliseconds (…T04:48:00Z), or with a numeric offset as events carry it (…T04:48:00.000+0000).
  bucketKeys?: 'documented' | 'seconds' | 'offset'
  ignoreSort?: boolean // answers in storage order whatever `sort` says
  // Which spelling the concurrency header takes (qualys-api.md §2.6: both are documented).
  concurrencyHeaderName?: 'x-concurrency-limit-limit' | 'x-concurrencylimit-limit'
  host?: string
  port?: number
  tls?: { key: string | Buffer, cert: string | Buffer } // serve HTTPS with this certificate (as Qualys does)
}

export interface Simulator {
  url: string
  latencyMs: number
  counters: { logins: number, events: number, inFlight: number, maxInFlight: number }
  // The same per Qualys user (an API call counts for the user whose token it carries).
  byUser: Record<string, { logins: number, events: number, inFlight: number, maxInFlight: number }>
  calls: SimCall[]
  connections: number // TCP connections accepted (TLS ones once their handshake is done), never reset
  targetLimit?: { bytes: number, status?: number } // may be changed between requests
  clock: () => number // ms since the simulator started: the time base of SimCall.at
  inject: (fault: Fault, count?: number, path?: 'auth' | 'events') => void // 'events': any GET API call
  // A fault chosen per events call (after the injected ones), e.g. every Active call fails.
  rule?: (call: SimCall) => Fault | undefined
  setFixtures: (fixtures: Fixtures) => void
  // Another consumer of the subscription (a SIEM connector…) spends `calls` from its budget now:
  // how many were allowed (the rest were refused, 429, as any caller's would be).
  spend: (calls: number) => number
  // What the subscription has left now (its limit when no rate limit is played).
  budgetLeft: () => number
  expireTokens: () => void
  reset: () => void
  close: () => Promise<void>
}

// What the handlers share: the simulator's public face, its options, the tokens it minted, the
// faults waiting, the events it serves.
export interface SimContext {
  sim: Simulator
  opts: SimulatorOptions
  tokens: Map<string, string> // token → user
  faults: Record<'auth' | 'events', Fault[]>
  fixtures: () => Fixtures
  counterOf: (user: string) => Simulator['byUser'][string]
  budget?: RateLimiter
}
