import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'

// Where lookups and tile data are kept, per credential (SPEC §10): in the process, or in Redis
// shared by every replica. Both implement this one interface; callers never know which.
export interface Store {
  // `credential`: the hash of (API URL, user, password) that keys and encrypts the entry.
  get: (credential: string, key: string) => Promise<unknown>
  set: (credential: string, key: string, value: unknown, ttlMs: number) => Promise<void>
}

export function memoryStore (max: number): Store {
  const lru = new LRUCache<string, object>({ max, ttl: 60_000 })
  return {
    get: async (credential, key) => lru.get(`${credential}\u0000${key}`),
    set: async (credential, key, value, ttlMs) => { lru.set(`${credential}\u0000${key}`, value as object, { ttl: ttlMs }) }
  }
}

// The few Redis commands the store uses (ioredis' signatures).
export interface RedisLike {
  get: (key: string) => Promise<string | null>
  set: (key: string, value: string, px: 'PX', ttlMs: number) => Promise<unknown>
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
    name: (credential: string, key: string) => `${prefix}store:${createHash('sha256').update(`${credential}\u0000${key}`).digest('base64url')}`,
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

// Redis first, the process's own store when Redis errs or is slower than `timeoutMs`: a Redis
// outage never fails a relay request, it only stops the sharing (counted by `onFallback`).
export function redisStore (redis: RedisLike, opts: { prefix: string, timeoutMs: number, local: Store, onFallback: (kind: string) => void }): Store {
  const seal = sealer(opts.prefix)
  const bounded = <T>(p: Promise<T>): Promise<T> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis: too slow')), opts.timeoutMs)
    p.then(resolve, reject).finally(() => clearTimeout(timer))
  })
  return {
    async get (credential, key) {
      const name = seal.name(credential, key)
      try {
        const sealed = await bounded(redis.get(name))
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
      await opts.local.set(credential, key, value, ttlMs)
      const name = seal.name(credential, key)
      try {
        await bounded(redis.set(name, seal.seal(credential, name, value), 'PX', ttlMs))
      } catch {
        opts.onFallback('set')
      }
    }
  }
}
