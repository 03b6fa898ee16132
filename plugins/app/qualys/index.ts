import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { LRUCache } from 'lru-cache'
import pLimit, { type LimitFunction } from 'p-limit'
import { Agent, request, type Dispatcher } from 'undici'
import { isAllowedUrl, parseAllowList } from '../../../lib/hosts.js'
import { USER_AGENT } from '../../../lib/version.js'
import { networkError, qualysError, scrub, statusError } from './errors.js'
import { readText } from './http.js'
import { Session, type QualysEvent } from './session.js'
import { DEFAULT_QUALYS_HOSTS } from './hosts.js'

export { Session, type QualysEvent } from './session.js'

export interface QualysOptions {
  apiUrl?: string // the environment's API_URL: its origin is always allowed
  qualysHosts?: string
  connectTimeoutMs: number
  deadlineMs: number
  retries: number
  concurrency: number
  cacheTtlS: number
  cacheMax: number
  dispatcher?: Dispatcher
  tokenMarginMs?: number
  onCall?: (outcome: string) => void
}

export interface Target { apiUrl?: string, user: string, pass: string }

const TOKEN_LIFETIME_MS = 4 * 3600_000

// When the Qualys token expires: its `exp` claim if readable, capped at the documented 4 hours.
function expiry (token: string, now: number): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
    if (typeof payload?.exp === 'number') return Math.min(payload.exp * 1000, now + TOKEN_LIFETIME_MS)
  } catch {}
  return now + TOKEN_LIFETIME_MS
}

export function createQualys (opts: QualysOptions) {
  const dispatcher = opts.dispatcher ??
    new Agent({ connect: { timeout: opts.connectTimeoutMs }, keepAliveTimeout: 30_000, connections: 32 })
  const allowList = parseAllowList('QUALYS_HOSTS', opts.qualysHosts ?? DEFAULT_QUALYS_HOSTS)
  const envOrigin = opts.apiUrl !== undefined ? new URL(opts.apiUrl).origin : undefined
  const margin = opts.tokenMarginMs ?? 5 * 60_000
  const tokens = new LRUCache<string, { token: string, expiresAt: number }>({ max: 10_000 })
  const logins = new Map<string, Promise<string>>()
  const limiters = new LRUCache<string, LimitFunction>({ max: 10_000 })
  const cache = opts.cacheTtlS > 0
    ? new LRUCache<string, QualysEvent[]>({ max: opts.cacheMax, ttl: opts.cacheTtlS * 1000 })
    : undefined
  const inflight = cache === undefined ? undefined : new Map<string, Promise<QualysEvent[]>>()

  async function login (apiUrl: string, target: Target, key: string): Promise<string> {
    opts.onCall?.('login')
    const body = new URLSearchParams({ username: target.user, password: target.pass, token: 'true' }).toString()
    let status: number
    let text: string
    try {
      const res = await request(`${apiUrl}/auth`, {
        method: 'POST',
        dispatcher,
        signal: AbortSignal.timeout(opts.deadlineMs),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT },
        body
      })
      status = res.statusCode
      text = scrub(await readText(res.body), [target.pass])
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw qualysError.timeout(opts.deadlineMs)
      throw networkError(err, apiUrl)
    }
    if (status < 200 || status >= 300) throw statusError(status, text, true)
    const token = text.trim()
    if (token === '') throw qualysError.invalidBody('an empty token')
    const now = Date.now()
    tokens.set(key, { token, expiresAt: expiry(token, now) - margin })
    return token
  }

  function singleFlight (apiUrl: string, target: Target, key: string): Promise<string> {
    let p = logins.get(key)
    if (p === undefined) {
      p = login(apiUrl, target, key).finally(() => logins.delete(key))
      logins.set(key, p)
    }
    return p
  }

  // The API URL a request may call: the token's (if allowed) or the environment's.
  function resolveApiUrl (claim: string | undefined): string {
    const raw = claim ?? opts.apiUrl
    if (raw === undefined) throw qualysError.noApiUrl()
    let url: URL
    try { url = new URL(raw) } catch { throw qualysError.hostNotAllowed(raw.slice(0, 100)) }
    const allowed = (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.username === '' && url.password === '' &&
      (url.origin === envOrigin || isAllowedUrl(allowList, url))
    if (!allowed) throw qualysError.hostNotAllowed(url.host)
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
  }

  return {
    // A session for one relay request; throws a RelayError when no allowed API URL exists.
    session (target: Target): Session {
      const apiUrl = resolveApiUrl(target.apiUrl)
      const key = createHash('sha256').update(`${apiUrl}\u0000${target.user}\u0000${target.pass}`).digest('hex')
      let limiter = limiters.get(key)
      if (limiter === undefined) {
        limiter = pLimit(opts.concurrency)
        limiters.set(key, limiter)
      }
      return new Session(apiUrl, {
        dispatcher,
        userAgent: USER_AGENT,
        deadlineMs: opts.deadlineMs,
        retries: opts.retries,
        limiter,
        cache,
        inflight,
        cacheKey: key,
        secrets: [target.pass],
        onCall: opts.onCall,
        token: async () => {
          const cached = tokens.get(key)
          if (cached !== undefined && cached.expiresAt > Date.now()) return cached.token
          return singleFlight(apiUrl, target, key)
        },
        login: () => singleFlight(apiUrl, target, key),
        refresh: async (stale) => {
          if (tokens.get(key)?.token === stale) tokens.delete(key)
          const cached = tokens.get(key)
          return cached !== undefined ? cached.token : singleFlight(apiUrl, target, key)
        }
      })
    },
    async close () {
      if (opts.dispatcher === undefined) await dispatcher.close()
    }
  }
}

export type Qualys = ReturnType<typeof createQualys>

declare module 'fastify' {
  interface FastifyInstance {
    qualys: Qualys
  }
}

// The Qualys IOC client: one undici Agent (keep-alive) owned and closed by this plugin.
export default fp(async function qualysPlugin (fastify: FastifyInstance) {
  const c = fastify.config
  const qualys = createQualys({
    apiUrl: c.API_URL,
    qualysHosts: c.QUALYS_HOSTS,
    connectTimeoutMs: c.QUALYS_CONNECT_TIMEOUT_MS,
    deadlineMs: c.QUALYS_DEADLINE_MS,
    retries: c.QUALYS_RETRIES,
    concurrency: c.QUALYS_CONCURRENCY,
    cacheTtlS: c.LOOKUP_CACHE_TTL_S,
    cacheMax: c.LOOKUP_CACHE_MAX,
    onCall: fastify.metrics.qualysCall
  })
  fastify.decorate('qualys', qualys)
  fastify.addHook('onClose', () => qualys.close())
}, { name: 'qualys', dependencies: ['env', 'metrics'] })
