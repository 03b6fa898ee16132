import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { boundedCache } from '../../../lib/bounded-cache.js'
import { Agent, type Dispatcher } from 'undici'
import { isAllowedUrl, parseAllowList } from '../../../lib/hosts.js'
import type { Budget } from '../../../schemas/qualys.js'
import type { State } from '../state/index.js'
import { memoryState } from '../state/memory.js'
import { accountKey, createAccount, type Account, type SessionLog } from './account.js'
import { qualysError } from '../../../lib/errors.js'
import { DEFAULT_QUALYS_HOSTS } from './hosts.js'
import { Session } from './session.js'

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
  maxUrlBytes?: number // QUALYS_MAX_URL_BYTES
  dispatcher?: Dispatcher
  tokenMarginMs?: number
  onCall?: (outcome: string) => void
  onBudget?: (account: string, budget: Budget) => void
  onBatchBytes?: (account: string, bytes: number) => void
  state?: State // shared by replicas (Redis); the process's own by default
}

export interface Target { apiUrl?: string, user: string, pass: string }

// The Qualys client: which API URL a request may call, and one account per credential.
export function createQualys (opts: QualysOptions) {
  const dispatcher = opts.dispatcher ??
    new Agent({ connect: { timeout: opts.connectTimeoutMs }, keepAliveTimeout: 30_000, connections: 32 })
  const allowList = parseAllowList('QUALYS_HOSTS', opts.qualysHosts ?? DEFAULT_QUALYS_HOSTS)
  const envOrigin = opts.apiUrl !== undefined ? new URL(opts.apiUrl).origin : undefined
  const accountOptions = {
    dispatcher,
    state: opts.state ?? memoryState(opts.cacheMax),
    deadlineMs: opts.deadlineMs,
    retries: opts.retries,
    concurrency: opts.concurrency,
    lookupTtlMs: opts.cacheTtlS * 1000,
    maxUrlBytes: opts.maxUrlBytes ?? 4000,
    tokenMarginMs: opts.tokenMarginMs ?? 5 * 60_000,
    onCall: opts.onCall,
    onBudget: opts.onBudget,
    onBatchBytes: opts.onBatchBytes
  }
  const accounts = boundedCache<string, Account>(10_000)

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
      const key = accountKey(apiUrl, target)
      let account = accounts.get(key)
      if (account === undefined) accounts.set(key, account = createAccount(apiUrl, target, accountOptions))
      return new Session(account, log)
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
    maxUrlBytes: c.QUALYS_MAX_URL_BYTES,
    onCall: fastify.metrics.qualysCall,
    onBudget: fastify.metrics.qualysBudget,
    onBatchBytes: fastify.metrics.qualysBatchBytes,
    state: fastify.state
  })
  fastify.decorate('qualys', qualys)
  fastify.addHook('onClose', () => qualys.close())
}, { name: 'qualys', dependencies: ['env', 'metrics', 'state'] })
