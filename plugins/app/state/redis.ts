import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { answered, within } from '../../../lib/abortable.js'
import { Mutex, Semaphore, type LockOptions } from 'redis-semaphore'
import { createCircuit, type Circuit } from './circuit.js'
import { courtesy, leases } from './lease.js'
import { redisBudget } from './redis-budget.js'
import type { Cache, Release, State } from './contract.js'
import { redisKey, type CacheKind } from './keys.js'
import { sealer } from './seal.js'

export interface RedisStateOptions {
  url: string
  prefix: string // REDIS_PREFIX: the client adds it to every key (ioredis keyPrefix); HKDF's salt
  leaseMs: number // how long a dead replica's lock or slot blocks the others
  silenceMs: number // no answer at all for this long while commands wait: Redis is down
  local: State // the process's own state: the first gate, and all of it while Redis is down
  log: { info: (msg: string) => void, warn: (obj: object | string, msg?: string) => void }
  onUp: (up: boolean) => void
  onFallback: (kind: string) => void
}

function redisCache<T> (redis: Redis, circuit: Circuit, kind: CacheKind, local: Cache<T>, opts: RedisStateOptions): Cache<T> {
  const seal = sealer(opts.prefix)
  return {
    async get (credential, key, signal) {
      const name = redisKey.entry(credential, kind, key)
      try {
        const sealed = await within(signal, circuit.run(() => redis.get(name)))
        const value = sealed === null ? undefined : seal.open(credential, name, sealed)
        if (value !== undefined) return value as T
      } catch (err) {
        if (signal?.aborted === true) throw err
        opts.onFallback('get')
      }
      return local.get(credential, key, signal)
    },
    async set (credential, key, value, ttlMs, signal) {
      if (ttlMs <= 0) return answered(signal, undefined)
      await local.set(credential, key, value, ttlMs)
      const name = redisKey.entry(credential, kind, key)
      try {
        await within(signal, circuit.run(() => redis.set(name, seal.seal(credential, name, value), 'PX', ttlMs)))
      } catch (err) {
        if (signal?.aborted === true) throw err
        opts.onFallback('set')
      }
    }
  }
}

// Redis first, the process's own state when Redis is down (SPEC §10): a Redis outage never fails
// a relay request, it only stops the sharing (counted by `onFallback`). Locks and slots are
// redis-semaphore's Mutex and Semaphore, held with a lease that this module renews (early, and
// never through an unhandled rejection), so a replica that dies holding one blocks the others
// for at most a lease.
// The client (no offline queue: a call while disconnected fails at once) and the circuit that
// every command's reply feeds.
function connect (opts: RedisStateOptions): { redis: Redis, circuit: Circuit } {
  const redis = new Redis(opts.url, {
    keyPrefix: opts.prefix,
    lazyConnect: true,
    enableOfflineQueue: false, // a call while disconnected fails at once: the circuit is down then
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000)
  })
  const circuit = createCircuit({
    silenceMs: opts.silenceMs,
    probe: () => redis.ping(),
    onChange: (up) => {
      opts.onUp(up)
      if (up) opts.log.info('redis: up, state shared with the other replicas')
      else opts.log.warn('redis: down, using in-process state until it is back')
    }
  })
  // Every command's reply tells the circuit that Redis answers (redis-semaphore's scripts too).
  const send = redis.sendCommand.bind(redis)
  redis.sendCommand = (command, stream) => {
    const sent = send(command, stream)
    circuit.track(command.promise)
    return sent
  }
  redis.on('ready', () => circuit.connected())
  redis.on('close', () => circuit.disconnected())
  redis.on('error', () => {}) // reconnection attempts fail while Redis is down: the circuit said so once
  opts.onUp(false)
  redis.connect().catch((err: Error) => {
    opts.log.warn({ error: err.message }, 'redis: unreachable at start-up, using in-process state and retrying')
  })
  return { redis, circuit }
}

// The local gate, then the shared one; both given back together.
async function both (local: Promise<Release>, shared: () => Promise<Release>): Promise<Release> {
  const releaseLocal = await local
  try {
    const releaseShared = await shared()
    return () => { releaseShared(); releaseLocal() }
  } catch (err) {
    releaseLocal()
    throw err
  }
}

const WAITING_MS = 30_000 // how long a waiting investigation stays listed at most (above QUALYS_DEADLINE_MS's default)

export function openRedisState (opts: RedisStateOptions) {
  const { redis, circuit } = connect(opts)
  const { hold, tryHold } = leases(circuit, opts.leaseMs, opts.onFallback)
  const polite = courtesy()
  // A shared slot: asked for after the courtesy (lease.ts), and remembered when given back. A
  // later waiter (a tile, health) asks only while no investigation of any replica is listed as
  // waiting (below).
  const sharedSlot = async (credential: string, limit: number, signal: AbortSignal, later?: boolean): Promise<Release> => {
    const name = redisKey.slots(credential)
    if (circuit.up) await polite.wait(name, signal)
    const waiters = redisKey.waiters(credential)
    const release = await hold((o) => new Semaphore(redis, name, limit, o), 'slot', signal, later,
      async () => await redis.zcount(waiters, Date.now(), '+inf') === 0)
    return () => {
      polite.given(name)
      release()
    }
  }
  // Investigations first across replicas: an investigation's slot request is listed in Redis
  // (cleared of entries past their time, each kept WAITING_MS at most should its replica die)
  // until it holds the slot, waiting in its replica's own gate included. Sent without waiting
  // for the replies (one connection keeps their order): two commands, no time added.
  const listed = async (credential: string, take: () => Promise<Release>): Promise<Release> => {
    if (!circuit.up) return take()
    const waiters = redisKey.waiters(credential)
    const me = randomUUID()
    const now = Date.now()
    circuit.run(() => redis.multi().zremrangebyscore(waiters, '-inf', now).zadd(waiters, now + WAITING_MS, me).pexpire(waiters, WAITING_MS).exec()).catch(() => {})
    try {
      return await take()
    } finally {
      if (circuit.up) circuit.run(() => redis.zrem(waiters, me)).catch(() => {})
    }
  }
  const mutex = (credential: string, name: string) => (o: LockOptions) => new Mutex(redis, redisKey.lock(credential, name), o)

  const { local } = opts
  const state: State = {
    tokens: redisCache(redis, circuit, 'token', local.tokens, opts),
    answers: redisCache(redis, circuit, 'answer', local.answers, opts),
    results: redisCache(redis, circuit, 'result', local.results, opts),
    marks: redisCache(redis, circuit, 'mark', local.marks, opts),
    budget: redisBudget(redis, circuit, local.budget, opts.onFallback),
    // The process's own gate first: one waiter per lock, and at most `limit` per credential, poll Redis.
    lock: (credential, name, signal) => both(local.lock(credential, name, signal), () => hold(mutex(credential, name), 'lock', signal)),
    tryLock: async (credential, name, signal) => {
      const releaseLocal = await local.tryLock(credential, name, signal)
      if (releaseLocal === undefined) return undefined
      const releaseShared = await tryHold(mutex(credential, name), 'lock').catch(() => undefined)
      if (releaseShared === undefined) releaseLocal()
      const release = releaseShared === undefined ? undefined : () => { releaseShared(); releaseLocal() }
      if (signal?.aborted === true) release?.() // taken after the caller stopped waiting: given back
      return answered(signal, release)
    },
    slot: (credential, limit, signal, later) => {
      const take = () => both(local.slot(credential, limit, signal, later), () => sharedSlot(credential, limit, signal, later))
      return later === true ? take() : listed(credential, take)
    }
  }
  return {
    state,
    redis,
    close: async () => {
      circuit.stop()
      redis.disconnect()
    }
  }
}
