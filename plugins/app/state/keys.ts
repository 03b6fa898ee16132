import { createHash } from 'node:crypto'

// Every name the relay keeps state under, and how long each entry lives. Redis key names are
// hashes (REDIS_PREFIX is added by the client): no user name, observable or query appears in
// Redis in clear.

export type CacheKind = 'token' | 'answer' | 'result' | 'mark'

// The marks: what Qualys taught about a credential, shared by every replica.
export const MARK = {
  throttled: 'throttled', // epoch ms until which no call may be made (a 429/409 wait)
  throttledBy: 'throttled-by', // the status (429 or 409) that asked for that wait
  concurrency: 'concurrency', // a lower cap on calls in flight (X-Concurrency-Limit-Limit)
  batchBytes: 'batch-bytes' // the longest batched filter Qualys accepted after refusing a longer one
} as const

export const TTL = {
  learntMs: 3600_000 // a concurrency limit or batch size Qualys taught (sent again on every answer)
  // tokens: until shortly before they expire; answers: LOOKUP_CACHE_TTL_S; results: a tile's data
  // for its period's span, health for HEALTH_CACHE_S; throttled: the wait Qualys named.
}

// In-process cache sizes: tokens and marks have their own, so lookups never evict them.
export const MEMORY_MAX = { token: 10_000, result: 1_000, mark: 10_000, budget: 10_000 }

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url')

export const redisKey = {
  entry: (credential: string, kind: CacheKind, key: string) => `store:${hash(credential, kind, key)}`,
  lock: (credential: string, name: string) => `lock:${hash(credential, name)}`, // redis-semaphore adds mutex:
  slots: (credential: string) => `slots:${hash(credential, 'slots')}`, // … and semaphore:
  waiters: (credential: string) => `waiters:${hash(credential, 'waiters')}`, // investigations waiting for a slot
  budget: (credential: string) => `budget:${hash(credential, 'budget')}`
}
