import { Type, type Static } from '@sinclair/typebox'

const ms = (fallback: number) => Type.Integer({ minimum: 1, default: fallback })

// The environment the relay reads; plugins/external/env.ts checks it at start-up and names the
// variable that is wrong. Lists stay comma-separated strings here and are parsed by their plugins.
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9090 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  API_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  PLATFORM_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  CTR_ENTITIES_LIMIT: Type.Integer({ minimum: 1, default: 100 }),
  SECRET_KEY: Type.Optional(Type.String({ minLength: 1 })),
  JWKS_HOSTS: Type.String({
    default: 'visibility.amp.cisco.com,visibility.eu.amp.cisco.com,visibility.apjc.amp.cisco.com'
  }),
  QUALYS_HOSTS: Type.Optional(Type.String()),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^/]+/?$' })),
  // The egress proxy (lib/egress.ts checks the URLs), read lower case first as curl does.
  HTTPS_PROXY: Type.Optional(Type.String()),
  HTTP_PROXY: Type.Optional(Type.String()),
  NO_PROXY: Type.Optional(Type.String()),
  https_proxy: Type.Optional(Type.String()),
  http_proxy: Type.Optional(Type.String()),
  no_proxy: Type.Optional(Type.String()),
  NODE_TLS_REJECT_UNAUTHORIZED: Type.Optional(Type.String()), // refused when 0 (plugins/app/egress.ts)
  TRUST_PROXY: Type.Boolean({ default: false }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' }
  ),
  BODY_LIMIT: Type.Integer({ minimum: 1024, default: 1048576 }),
  MAX_OBSERVABLES: Type.Integer({ minimum: 1, default: 1000 }),
  QUALYS_CONNECT_TIMEOUT_MS: ms(5000),
  QUALYS_DEADLINE_MS: ms(25000),
  QUALYS_RETRIES: Type.Integer({ minimum: 0, maximum: 10, default: 3 }),
  QUALYS_BATCH: Type.Union([Type.Literal('mixed'), Type.Literal('per-type'), Type.Literal('off')], { default: 'mixed' }),
  QUALYS_MAX_URL_BYTES: Type.Integer({ minimum: 1000, maximum: 65536, default: 4000 }), // nothing documents more than ~4 KB
  QUALYS_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 100, default: 2 }),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  METRICS_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000 }),
  LOOKUP_CACHE_TTL_S: Type.Integer({ minimum: 0, default: 60 }),
  LOOKUP_CACHE_MAX: Type.Integer({ minimum: 1, default: 10000 }),
  HEADERS_TIMEOUT_MS: ms(10000),
  REQUEST_TIMEOUT_MS: ms(30000),
  IDLE_TIMEOUT_MS: ms(65000),
  // Tiles: how long a tile's data is fresh, per period (SPEC §12); TILE_CACHE_TTL_S, when set,
  // is the same for every period (0: no tile cache at all).
  TILE_FRESH_24H_S: Type.Integer({ minimum: 1, default: 900 }),
  TILE_FRESH_7D_S: Type.Integer({ minimum: 1, default: 3600 }),
  TILE_FRESH_30D_S: Type.Integer({ minimum: 1, default: 14400 }),
  TILE_CACHE_TTL_S: Type.Optional(Type.Integer({ minimum: 0 })),
  // The Qualys budget (SPEC §12): what tiles and health leave to investigations, a number of
  // calls or a percentage of the subscription's limit (0: no reserve); health's cache.
  QUALYS_BUDGET_RESERVE: Type.String({ pattern: '^(\\d+|\\d+(\\.\\d+)?%)$', default: '20%' }),
  HEALTH_CACHE_S: Type.Integer({ minimum: 0, default: 60 }),
  VERDICT_VALID_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 7 }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://[^\\s]+$' })),
  REDIS_PREFIX: Type.String({ minLength: 1, default: 'qioc:' }),
  REDIS_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 1000 }), // no answer at all for this long: Redis is down
  REDIS_LEASE_MS: Type.Integer({ minimum: 200, maximum: 600000, default: 5000 })
})

export type Config = Static<typeof ConfigSchema>
