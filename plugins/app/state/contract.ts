import type { QualysEvent, QualysToken } from '../../../schemas/qualys.js'

// One kind of entry kept per credential (the hash of API URL, user and password): in the process,
// or in Redis shared by every replica. Values come back as they were stored, or undefined.
export interface Cache<T> {
  get: (credential: string, key: string) => Promise<T | undefined>
  set: (credential: string, key: string, value: T, ttlMs: number) => Promise<void>
}

// What the replicas of one credential share (SPEC §10). Each kind of entry has its own cache, so
// a burst of lookups never evicts a token; the mutex and the semaphore are real in both
// implementations, so callers keep no second single-flight or limiter beside them.
export interface State {
  tokens: Cache<QualysToken>
  lookups: Cache<QualysEvent[]>
  tiles: Cache<unknown>
  marks: Cache<number> // what Qualys taught: a throttling wait, a lower concurrency, a batch size
  // Runs `fn` as the only holder of `name` for this credential; waiting ends with `signal`.
  exclusive: <T>(credential: string, name: string, signal: AbortSignal, fn: () => Promise<T>) => Promise<T>
  // Runs `fn` holding one of `limit` slots for this credential; waiting ends with `signal`.
  slot: <T>(credential: string, limit: number, signal: AbortSignal, fn: () => Promise<T>) => Promise<T>
}
