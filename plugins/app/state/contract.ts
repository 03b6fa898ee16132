import type { CachedAnswer, QualysToken } from '../../../schemas/qualys.js'
import type { BudgetStore } from './budget.js'

// Every method takes the caller's abort signal (a relay request's deadline): once it aborts, the
// method rejects with the signal's reason at once. The signal ends the wait, never the operation:
// what was sent to Redis still happens, and a lock or slot taken meanwhile is given back.

// One kind of entry kept per credential (the hash of API URL, user and password): in the process,
// or in Redis shared by every replica. Values come back as they were stored, or undefined.
export interface Cache<T> {
  get: (credential: string, key: string, signal?: AbortSignal) => Promise<T | undefined>
  set: (credential: string, key: string, value: T, ttlMs: number, signal?: AbortSignal) => Promise<void>
}

// Gives back a lock or a slot; calling it twice is harmless.
export type Release = () => void

// What the replicas of one credential share (SPEC §10). Each kind of entry has its own cache, so
// a burst of lookups never evicts a token; the mutex and the semaphore are real in both
// implementations, so callers keep no second single-flight or limiter beside them. Both are
// taken and given back by the caller: the state never calls back into the client.
export interface State {
  tokens: Cache<QualysToken>
  answers: Cache<CachedAnswer> // Qualys' answers to lookups (LOOKUP_CACHE_TTL_S)
  results: Cache<unknown> // what the relay computed from Qualys' answers: tile data, health
  marks: Cache<number> // what Qualys taught: a throttling wait, a lower concurrency, a batch size
  budget: BudgetStore // the credential's view of its Qualys budget (SPEC §12)
  // Becomes the only holder of `name` for this credential; waiting ends with `signal`.
  lock: (credential: string, name: string, signal: AbortSignal) => Promise<Release>
  // The same lock if nobody holds it now, else undefined at once.
  tryLock: (credential: string, name: string, signal?: AbortSignal) => Promise<Release | undefined>
  // Takes one of `limit` slots for this credential; waiting ends with `signal`. Waiters that
  // come `later` (tiles, health) are served after every other waiter.
  slot: (credential: string, limit: number, signal: AbortSignal, later?: boolean) => Promise<Release>
}
