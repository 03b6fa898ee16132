import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { Mutex, Semaphore, type LockOptions } from 'redis-semaphore'
import type { Redis } from 'ioredis'

// What the replicas of one credential share (SPEC §10): cached values (lookups, tile data, the
// Qualys token, the throttling wait, a lowered concurrency) and the right to act alone (the login,
// one lookup) or within a cap (calls in flight). In the process, or in Redis shared by every
// replica: both implement this one interface and callers never know which.
export interface Store {
  // `credential`: the hash of (API URL, user, password) that keys and encrypts the entry.
  get: (credential: string, key: string) => Promise<unknown>
  set: (credential: string, key: string, value: unknown, ttlMs: number) => Promise<void>
  // Runs `fn` as the only holder of `name` for this credential. In process it runs at once: the
  // process's own single-flight already makes its callers wait for one another.
  exclusive: <T>(credential: string, name: string, signal: AbortSignal, fn: () => Promise<T>) => Promise<T>
  // Runs `fn` holding one of `limit` slots for this credential. In process it runs at once: the
  // caller's own limiter is the cap.
  slot: <T>(credential: string, limit: number, signal: AbortSignal, fn: () => Promise<T>) => Promise<T>
}

export function memoryStore (max: number): Store {
  const lru = new LRUCache<string, object>({ max, ttl: 60_000 })
  return {
    get: async (credential, key) => lru.get(`${credential}\u0000${key}`),
    set: async (credential, key, value, ttlMs) => {
      if (ttlMs > 0) lru.set(`${credential}\u0000${key}`, value as object, { ttl: ttlMs })
    },
    exclusive: async (_credential, _name, _signal, fn) => fn(),
    slot: async (_credential, _limit, _signal, fn) => fn()
  }
}

// Entries are secrets at rest: AES-256-GCM under a key derived from the credential (HKDF), so a
// Redis dump, or a replica serving another tenant, cannot read them. Key names are hashes: no
// user name, observable or query appears in Redis in clear. The key name is the cipher's
// additional data, so an entry cannot be moved under another name.
export function sealer (prefix: string) {
  const keys = new LRUCache<string, Buffer>({ max: 10_000 })
  const keyFor = (credential: string) => {
    let key = keys.get(credential)
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', credential, prefix, 'qualys-ioc-relay store v1', 32))
      keys.set(credential, key)
    }
    return key
  }
  return {
    // The name of an entry (kind: store, lock, slots) without REDIS_PREFIX, which the client adds.
    name: (credential: string, key: string, kind = 'store') => `${kind}:${createHash('sha256').update(`${credential}\u0000${key}`).digest('base64url')}`,
    seal (credential: string, name: string, value: unknown): string {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', keyFor(credential), iv).setAAD(Buffer.from(name))
      const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')
    },
    // undefined when the entry is not this credential's (or was tampered with).
    open (credential: string, name: string, sealed: string): unknown {
      try {
        const raw = Buffer.from(sealed, 'base64')
        const decipher = createDecipheriv('aes-256-gcm', keyFor(credential), raw.subarray(0, 12)).setAAD(Buffer.from(name))
        decipher.setAuthTag(raw.subarray(12, 28))
        return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'))
      } catch {
        return undefined
      }
    }
  }
}

export interface RedisStoreOptions {
  prefix: string // REDIS_PREFIX: the client adds it to every key (ioredis keyPrefix); HKDF's salt
  leaseMs: number // how long a dead replica's lock or slot blocks the others
  local: Store // the process's own state, when Redis fails
  onFallback: (kind: string) => void
}

// How often a replica waiting for a lock or a slot asks Redis again.
const RETRY_MS = 5

// Redis first, the process's own state when Redis errs or is slower than the client's command
// timeout (REDIS_TIMEOUT_MS): a Redis outage never fails a relay request, it only stops the
// sharing (counted by `onFallback`). Locks and slots are redis-semaphore's Mutex and Semaphore:
// held with a lease renewed while the holder lives, so a replica that dies holding one blocks the
// others for at most `leaseMs`.
export function redisStore (redis: Redis, opts: RedisStoreOptions): Store {
  const seal = sealer(opts.prefix)
  const lease = { lockTimeout: opts.leaseMs, refreshInterval: Math.round(opts.leaseMs / 3), retryInterval: RETRY_MS, acquireTimeout: 24 * 3600_000 }

  // Runs fn holding a lock made by `make`; without it when Redis fails (the process's own state
  // then decides). An attempt that timed out on our side may still have taken the lock in Redis:
  // its twin (same identifier) gives it back, else it would block the others for a whole lease.
  async function holding<T> (make: (options: LockOptions) => Mutex | Semaphore, kind: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const lock = make({ ...lease, onLockLost: () => opts.onFallback(`${kind}_lost`) })
    try {
      await lock.acquire(signal)
    } catch (err) {
      make({ identifier: lock.identifier, acquiredExternally: true, refreshInterval: 0 }).release().catch(() => {})
      if (signal.aborted) throw err
      opts.onFallback(kind)
      return fn()
    }
    try {
      return await fn()
    } finally {
      lock.release().catch(() => {}) // a lock Redis forgot expires with its lease
    }
  }

  const store: Store = {
    async get (credential, key) {
      const name = seal.name(credential, key)
      try {
        const sealed = await redis.get(name)
        if (sealed !== null) {
          const value = seal.open(credential, name, sealed)
          if (value !== undefined) return value
        }
      } catch {
        opts.onFallback('get')
      }
      return opts.local.get(credential, key)
    },
    async set (credential, key, value, ttlMs) {
      if (ttlMs <= 0) return
      await opts.local.set(credential, key, value, ttlMs)
      const name = seal.name(credential, key)
      try {
        await redis.set(name, seal.seal(credential, name, value), 'PX', ttlMs)
      } catch {
        opts.onFallback('set')
      }
    },
    exclusive (credential, name, signal, fn) {
      const key = seal.name(credential, name, 'lock')
      return holding((options) => new Mutex(redis, key, options), 'lock', signal, fn)
    },
    // The cap is the lowest of the caller's and what any replica learnt from Qualys
    // (X-Concurrency-Limit-Limit, stored under 'concurrency').
    async slot (credential, limit, signal, fn) {
      const learnt = await store.get(credential, 'concurrency')
      const cap = typeof learnt === 'number' && learnt >= 1 ? Math.min(limit, learnt) : limit
      const key = seal.name(credential, 'slots', 'slots')
      return holding((options) => new Semaphore(redis, key, cap, options), 'slot', signal, fn)
    }
  }
  return store
}
