import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { LRUCache } from 'lru-cache'
import { Agent, request, type Dispatcher } from 'undici'
import { isAllowedUrl, parseAllowList } from '../../../lib/hosts.js'
import { USER_AGENT } from '../../../lib/version.js'
import { networkError, qualysError, scrub, statusError } from './errors.js'
import { readText } from './http.js'
import type { Budget, QualysEvent, QualysToken } from '../../../schemas/qualys.js'
import { Session, type SessionLog, type Shared } from './session.js'
import { DEFAULT_QUALYS_HOSTS } from './hosts.js'
import type { State } from '../state/index.js'
import { memoryState } from '../state/memory.js'

export { Session } from './session.js'

export interface QualysOptions {
  apiUrl?: string // the environment's API_URL: its origin is always allowed
  qualysHosts?: string
  connectTimeoutMs: number
  deadlineMs: number
  retries: number
  concurrency: number
  cacheTtlS: number // lookups; 0: not cached
  cacheMax: number
  dispatcher?: Dispatcher
  tokenMarginMs?: number
  onCall?: (outcome: string) => void
  onBudget?: (credential: string, budget: Budget) => void
  onBatchBytes?: (credential: string, bytes: number) => void
  maxUrlBytes?: number // QUALYS_MAX_URL_BYTES
  state?: State // shared by replicas (Redis); the process's own by default
}

export interface Target { apiUrl?: string, user: string, pass: string }

const TOKEN_LIFETIME_MS = 4 * 3600_000

type Token = QualysToken

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
  // Lookups and tile data, each entry with its own TTL, keyed by credential (never shared
  // across credentials).
  const state = opts.state ?? memoryState(opts.cacheMax)
  const inflight = opts.cacheTtlS > 0 ? new Map<string, Promise<QualysEvent[]>>() : undefined
  // Everything kept per credential (API URL, user, password): its cap on calls, its token, its
  // login under way; built once and shared by every session of that credential.
  const credentials = new LRUCache<string, Shared>({ max: 10_000 })

  async function login (apiUrl: string, target: Target): Promise<Token> {
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
    return { token, expiresAt: expiry(token, Date.now()) - margin }
  }

  function credential (apiUrl: string, target: Target, key: string): Shared {
    let cached: Token | undefined
    let pending: Promise<string> | undefined
    let fresh: Promise<string> | undefined
    // The Qualys account's budget is per API URL and user (not per password): its metrics label.
    const account = createHash('sha256').update(`${apiUrl}\u0000${target.user}`).digest('hex').slice(0, 10)
    let low = false
    const use = (t: Token) => { cached = t; return t.token }
    // A token some replica got (the store), unless it is the one Qualys just refused.
    const stored = async (stale?: string) => {
      const t = await state.tokens.get(key, 'token')
      return t !== undefined && t.expiresAt > Date.now() && t.token !== stale ? t : undefined
    }
    // One login per credential across the replicas: under the store's login lock, after looking
    // again whether another replica logged in meanwhile. `force`: a new login whatever is stored.
    const obtain = async (stale?: string, force = false): Promise<string> => {
      const known = force ? undefined : await stored(stale)
      if (known !== undefined) return use(known)
      try {
        return await state.exclusive(key, 'login', AbortSignal.timeout(opts.deadlineMs), async () => {
          const now = force ? undefined : await stored(stale)
          if (now !== undefined) return use(now)
          const t = await login(apiUrl, target)
          await state.tokens.set(key, 'token', t, t.expiresAt - Date.now())
          return use(t)
        })
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') throw qualysError.timeout(opts.deadlineMs)
        throw err
      }
    }
    // One login at a time per credential in the process, shared by everyone who needs a token meanwhile.
    const singleFlight = (stale?: string) => {
      pending ??= obtain(stale).finally(() => { pending = undefined })
      return pending
    }
    return {
      dispatcher,
      userAgent: USER_AGENT,
      deadlineMs: opts.deadlineMs,
      retries: opts.retries,
      concurrency: opts.concurrency,
      state,
      lookupTtlMs: opts.cacheTtlS * 1000,
      inflight,
      cacheKey: key,
      secrets: [target.pass],
      onCall: opts.onCall,
      // One warning when the budget falls below 10 % of the limit, again only after it recovered.
      learnt: (bytes) => opts.onBatchBytes?.(account, bytes),
      maxUrlBytes: opts.maxUrlBytes ?? 4000,
      budget: (budget, log) => {
        opts.onBudget?.(account, budget)
        const below = budget.remaining < budget.limit * 0.1
        if (below && !low) {
          log?.warn({ credential: account, limit: budget.limit, remaining: budget.remaining, windowSec: budget.windowSec },
            'Qualys API budget below 10 % of its limit')
        }
        low = below
      },
      token: async () => cached !== undefined && cached.expiresAt > Date.now() ? cached.token : singleFlight(),
      login: () => {
        fresh ??= obtain(undefined, true).finally(() => { fresh = undefined })
        return fresh
      },
      refresh: async (stale) => {
        if (cached?.token === stale) cached = undefined
        return cached !== undefined ? cached.token : singleFlight(stale)
      }
    }
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
    session (target: Target, log?: SessionLog): Session {
      const apiUrl = resolveApiUrl(target.apiUrl)
      const key = createHash('sha256').update(`${apiUrl}\u0000${target.user}\u0000${target.pass}`).digest('hex')
      let shared = credentials.get(key)
      if (shared === undefined) {
        shared = credential(apiUrl, target, key)
        credentials.set(key, shared)
      }
      return new Session(apiUrl, shared, log)
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
    onCall: fastify.metrics.qualysCall,
    onBudget: fastify.metrics.qualysBudget,
    onBatchBytes: fastify.metrics.qualysBatchBytes,
    maxUrlBytes: c.QUALYS_MAX_URL_BYTES,
    state: fastify.state
  })
  fastify.decorate('qualys', qualys)
  fastify.addHook('onClose', () => qualys.close())
}, { name: 'qualys', dependencies: ['env', 'metrics', 'state'] })
