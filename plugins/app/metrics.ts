import http from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

import type { Budget } from '../../schemas/qualys.js'

export interface Metrics {
  enabled: boolean
  qualysCall: (outcome: string) => void
  qualysBudget: (credential: string, budget: Budget) => void
  qualysBatchBytes: (credential: string, bytes: number) => void
  qualysSpend: (credential: string, remaining?: number) => void // the relay's view: a call sent (−1), or what Qualys said
  heldBack: (purpose: string, calls?: number) => void
  tileAnswer: (freshness: 'fresh' | 'stale' | 'computed') => void
  healthAnswer: (result: 'ok' | 'error') => void
  redisUp: (up: boolean) => void
  redisFallback: (kind: string) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

// Prometheus metrics, served on their own port (METRICS_PORT) so they never reach the public
// relay behind the proxy. Off when METRICS_PORT is unset: prom-client is then never loaded.
export async function createMetrics () {
  const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = await import('prom-client')
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'relay_' })
  const requests = new Counter({ name: 'relay_http_requests_total', help: 'Requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] })
  const duration = new Histogram({
    name: 'relay_http_request_duration_seconds',
    help: 'Request latency by route',
    labelNames: ['route', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25],
    registers: [registry]
  })
  const calls = new Counter({ name: 'relay_qualys_calls_total', help: 'Qualys calls by outcome: HTTP status, network_error, retry, throttled, login; batch_refused, batch_split, refused_query (a 400 read as no events)', labelNames: ['outcome'], registers: [registry] })
  const logins = new Counter({ name: 'relay_qualys_logins_total', help: 'Qualys logins', registers: [registry] })
  const refused = new Counter({ name: 'relay_qualys_credentials_refused_total', help: 'Qualys refusing the credentials: a login answered 401, 400 or 403, or a 401 right after a new login', registers: [registry] })
  const health = new Counter({ name: 'relay_health_answers_total', help: 'POST /health answers by result: ok (Qualys accepted the credentials and answered) or error', labelNames: ['result'], registers: [registry] })
  const cache = new Counter({ name: 'relay_lookup_cache_total', help: 'Lookup cache results: hit, miss, coalesced (joined a call under way)', labelNames: ['result'], registers: [registry] })
  // Labelled by a short hash of the Qualys account (API URL and user), never the user name.
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['credential'], registers: [registry] })
  const limit = gauge('relay_qualys_ratelimit_limit', 'Qualys API calls allowed per window (X-RateLimit-Limit)')
  const remaining = gauge('relay_qualys_ratelimit_remaining', 'Qualys API calls left in the window (X-RateLimit-Remaining)')
  const window = gauge('relay_qualys_ratelimit_window_seconds', 'Qualys API rate-limit window (X-RateLimit-Window-Sec)')
  const batchBytes = gauge('relay_qualys_batch_max_bytes', 'The longest batched filter (encoded bytes) sent since Qualys refused a longer one')
  const budget = gauge('relay_qualys_budget_remaining', 'Qualys API calls left in the window as this replica sees it: the last X-RateLimit-Remaining less the calls sent since')
  const held = new Counter({ name: 'relay_qualys_held_back_total', help: 'Tile and health calls not sent because the budget was at its reserve for investigations (QUALYS_BUDGET_RESERVE); a tile not computed or refreshed counts all its calls', labelNames: ['purpose'], registers: [registry] })
  const tiles = new Counter({ name: 'relay_tile_answers_total', help: 'Tile-data answers by freshness: fresh (cached within its freshness), stale (older data answered while a refresh runs), computed (asked of Qualys for this answer)', labelNames: ['freshness'], registers: [registry] })
  const redisUp = new Gauge({ name: 'relay_redis_up', help: '1 when the shared Redis answers, 0 when the relay runs on its own state', registers: [registry] })
  const fallbacks = new Counter({ name: 'relay_redis_fallbacks_total', help: 'Redis operations answered from in-process state because Redis was down, by kind (get, set, lock, slot; lock_lost, slot_lost: a lease lost while held)', labelNames: ['kind'], registers: [registry] })
  const metrics = {
    enabled: true,
    registry,
    qualysCall (outcome: string) {
      if (outcome === 'login') logins.inc()
      if (outcome === 'credentials_refused') refused.inc()
      else if (outcome === 'cache_hit' || outcome === 'cache_miss' || outcome === 'coalesced') cache.inc({ result: outcome.replace('cache_', '') })
      else calls.inc({ outcome })
    },
    redisUp (up: boolean) { redisUp.set(up ? 1 : 0) },
    redisFallback (kind: string) { fallbacks.inc({ kind }) },
    qualysBatchBytes (credential: string, bytes: number) { batchBytes.set({ credential }, bytes) },
    qualysSpend (credential: string, remaining?: number) {
      if (remaining !== undefined) budget.set({ credential }, remaining)
      else budget.dec({ credential })
    },
    heldBack (purpose: string, calls = 1) { held.inc({ purpose }, calls) },
    tileAnswer (freshness: string) { tiles.inc({ freshness }) },
    healthAnswer (result: 'ok' | 'error') { health.inc({ result }) },
    qualysBudget (credential: string, budget: Budget) {
      limit.set({ credential }, budget.limit)
      remaining.set({ credential }, budget.remaining)
      if (budget.windowSec !== undefined) window.set({ credential }, budget.windowSec)
    },
    observe (route: string, method: string, status: number, seconds: number) {
      requests.inc({ route, method, status: String(status) })
      duration.observe({ route, method }, seconds)
    }
  }
  return metrics
}

export default fp(async function metricsPlugin (fastify: FastifyInstance) {
  const { METRICS_PORT: port, METRICS_HOST: host } = fastify.config
  if (port === undefined) {
    const off = () => {}
    fastify.decorate('metrics', { enabled: false, qualysCall: off, qualysBudget: off, qualysBatchBytes: off, qualysSpend: off, heldBack: off, tileAnswer: off, healthAnswer: off, redisUp: off, redisFallback: off })
    return
  }
  const metrics = await createMetrics()
  fastify.decorate('metrics', metrics)
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.routeOptions.url ?? 'unknown', request.method, reply.statusCode, reply.elapsedTime / 1000)
  })
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') return res.writeHead(404).end('Not Found')
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end())
  })
  fastify.addHook('onReady', () => new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  }))
  fastify.addHook('onClose', () => new Promise<void>((resolve) => server.close(() => resolve())))
}, { name: 'metrics', dependencies: ['env'] })
