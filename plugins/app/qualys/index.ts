import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { boundedCache } from '../../../lib/bounded-cache.js'
import { qualysError } from '../../../lib/errors.js'
import { isAllowedUrl, parseAllowList } from '../../../lib/hosts.js'
import type { Credentials } from '../../../schemas/qualys.js'
import { accountKey, createAccount, type Account } from './account.js'
import { budgetReport, maySpend, parseReserve } from './budget.js'
import { compose, type Conversation, type Log, type Purpose } from './chain.js'
import { Deadline } from './deadline.js'
import { createHealth } from './health.js'
import { DEFAULT_QUALYS_HOSTS } from '../../../lib/qualys/hosts.js'
import { PATH } from '../../../lib/qualys/protocol.js'
import { auth } from './layers/auth.js'
import { batchSize } from './layers/batch-size.js'
import { budget } from './layers/budget.js'
import { deadline } from './layers/deadline.js'
import { lookupCache } from './layers/lookup-cache.js'
import { retry } from './layers/retry.js'
import { slots } from './layers/slots.js'
import { throttle } from './layers/throttle.js'
import { transport } from './layers/transport.js'
import { createLookups } from './lookup/index.js'
import { eventsOf } from './lookup/events.js'

export type { Conversation, Purpose } from './chain.js'

declare module 'fastify' {
  interface FastifyInstance {
    qualys: ReturnType<typeof createQualys>
  }
}

// The API URL a request may call: the token's (if allowed) or the environment's.
function apiUrls (c: FastifyInstance['config']) {
  const allowList = parseAllowList('QUALYS_HOSTS', c.QUALYS_HOSTS ?? DEFAULT_QUALYS_HOSTS)
  const envOrigin = c.API_URL !== undefined ? new URL(c.API_URL).origin : undefined
  return function resolveApiUrl (claim: string | undefined): string {
    const raw = claim ?? c.API_URL
    if (raw === undefined) throw qualysError.noApiUrl()
    let url: URL
    try { url = new URL(raw) } catch { throw qualysError.hostNotAllowed(raw.slice(0, 100)) }
    const allowed = (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.username === '' && url.password === '' &&
      (url.origin === envOrigin || isAllowedUrl(allowList, url))
    if (!allowed) throw qualysError.hostNotAllowed(url.host)
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
  }
}

// The Qualys IOC client (SPEC §3, §4, §10): which API URL a request may call, one account per
// credential, and one stack of layers composed once. Every call, the login included, goes down
//   deadline → lookup cache → batch size → slots → retry → throttle → budget → auth → transport
// and its answer comes back up the same way: the lookup cache sits above the slots (a hit takes
// no slot) and above the batch-size lesson (a replayed refusal teaches nothing twice), the
// throttle below the retries (every attempt waits out a shared wait, and records the one Qualys
// names), the budget and auth next to the transport (every call sent is seen). The auth layer
// sends its logins on to the transport.
function createQualys (fastify: FastifyInstance) {
  const c = fastify.config
  const { state } = fastify
  const { qualysCall: onCall } = fastify.metrics
  const resolveApiUrl = apiUrls(c)
  const accounts = boundedCache<string, Account>(10_000)
  const reserve = parseReserve(c.QUALYS_BUDGET_RESERVE)
  const send = compose([
    deadline,
    lookupCache({ state, ttlMs: c.LOOKUP_CACHE_TTL_S * 1000, onCall }),
    batchSize({ state, onCall, onBatchBytes: fastify.metrics.qualysBatchBytes }),
    slots({ state, concurrency: c.QUALYS_CONCURRENCY }),
    retry({ retries: c.QUALYS_RETRIES, onCall }),
    throttle({ state, onCall }),
    budget({ state, reserve, onBudget: fastify.metrics.qualysBudget, onSpend: fastify.metrics.qualysSpend, onHeld: fastify.metrics.heldBack }),
    auth({ state, onCall })
  ], transport({ dispatcher: fastify.egress.dispatcher, proxyFor: fastify.egress.proxyFor, onCall }))

  return {
    // One relay request's conversation with Qualys, ended (`end`) by whoever opened it; throws a RelayError when no allowed API URL exists.
    open (creds: Credentials, purpose: Purpose, log?: Log): Conversation {
      const apiUrl = resolveApiUrl(creds.apiUrl)
      const key = accountKey(apiUrl, creds)
      let account = accounts.get(key)
      if (account === undefined) accounts.set(key, account = createAccount(apiUrl, creds))
      const deadline = new Deadline(c.QUALYS_DEADLINE_MS)
      const call = { account, deadline, purpose, log }
      const ask: Conversation['ask'] = (path, query, extra = {}) => send({ ...call, path, query, ...extra })
      return {
        ...call,
        ask,
        login: async () => { await send({ ...call, path: PATH.auth, query: '' }) },
        events: eventsOf(ask, log, onCall),
        end: () => { deadline.end() }
      }
    },
    lookupAll: createLookups({
      state,
      batching: c.QUALYS_BATCH,
      maxUrlBytes: c.QUALYS_MAX_URL_BYTES,
      onCall
    }),
    health: createHealth({ state, ttlMs: c.HEALTH_CACHE_S * 1000 }),
    // The credential's budget as the replicas see it, and whether `calls` of a tile or health may spend.
    async budget (conversation: Conversation, calls = 1) {
      const view = await state.budget.get(conversation.account.key, conversation.deadline.signal)
      const now = Date.now()
      return { report: view === undefined ? undefined : budgetReport(view, now), maySpend: maySpend(view, reserve, now, calls) }
    }
  }
}

// The Qualys IOC client, over the egress plugin's dispatcher (keep-alive, direct or proxied).
export default fp(async function qualysPlugin (fastify: FastifyInstance) {
  fastify.decorate('qualys', createQualys(fastify))
}, { name: 'qualys', dependencies: ['env', 'egress', 'metrics', 'state'] })
