import { createHash } from 'node:crypto'
import type { Dispatcher } from 'undici'
import type { Budget, QualysEvent } from '../../../schemas/qualys.js'
import type { State } from '../state/index.js'
import { createTokens, type Tokens } from './token.js'

// Where a session reports what is not an answer: the request's logger.
export interface SessionLog {
  error: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

// The client-wide settings every account is built from (QUALYS_* and the store).
export interface AccountOptions {
  dispatcher: Dispatcher
  state: State
  deadlineMs: number
  retries: number
  concurrency: number
  lookupTtlMs: number // 0: lookups not cached
  maxUrlBytes: number
  tokenMarginMs: number
  onCall?: (outcome: string) => void
  onBudget?: (account: string, budget: Budget) => void
  onBatchBytes?: (account: string, bytes: number) => void
}

// One credential (API URL, user, password), shared by every session that uses it: its token,
// its cap on calls in flight, its lookups under way, what Qualys told about its budget.
export interface Account extends Omit<AccountOptions, 'onBudget' | 'onBatchBytes' | 'tokenMarginMs'> {
  apiUrl: string
  key: string // the hash of API URL, user and password: keys (and seals) the credential's state
  secrets: string[] // scrubbed from every upstream text
  tokens: Tokens
  inflight?: Map<string, Promise<QualysEvent[]>> // identical lookups under way (with the cache on)
  budget: (budget: Budget, log?: SessionLog) => void // Qualys' X-RateLimit-* headers
  learnt: (batchBytes: number) => void
}

// The credential's identity: the hash of API URL, user and password (no password kept as a key).
export const accountKey = (apiUrl: string, target: { user: string, pass: string }): string =>
  createHash('sha256').update(`${apiUrl}\u0000${target.user}\u0000${target.pass}`).digest('hex')

export function createAccount (apiUrl: string, target: { user: string, pass: string }, opts: AccountOptions): Account {
  const key = accountKey(apiUrl, target)
  // Qualys' budget is per API URL and user (not per password): the metrics label.
  const label = createHash('sha256').update(`${apiUrl}\u0000${target.user}`).digest('hex').slice(0, 10)
  let low = false
  return {
    apiUrl,
    key,
    dispatcher: opts.dispatcher,
    state: opts.state,
    deadlineMs: opts.deadlineMs,
    retries: opts.retries,
    concurrency: opts.concurrency,
    lookupTtlMs: opts.lookupTtlMs,
    maxUrlBytes: opts.maxUrlBytes,
    onCall: opts.onCall,
    secrets: [target.pass],
    inflight: opts.lookupTtlMs > 0 ? new Map() : undefined,
    tokens: createTokens({ apiUrl, user: target.user, pass: target.pass, key, state: opts.state, dispatcher: opts.dispatcher, deadlineMs: opts.deadlineMs, marginMs: opts.tokenMarginMs, onCall: opts.onCall }),
    learnt: (bytes) => opts.onBatchBytes?.(label, bytes),
    // One warning when the budget falls below 10 % of the limit, again only after it recovered.
    budget: (budget, log) => {
      opts.onBudget?.(label, budget)
      const below = budget.remaining < budget.limit * 0.1
      if (below && !low) {
        log?.warn({ credential: label, limit: budget.limit, remaining: budget.remaining, windowSec: budget.windowSec },
          'Qualys API budget below 10 % of its limit')
      }
      low = below
    }
  }
}
