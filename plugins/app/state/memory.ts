import { answered } from '../../../lib/abortable.js'
import { boundedCache } from '../../../lib/bounded-cache.js'
import { memoryBudget } from './budget.js'
import type { Cache, Release, State } from './contract.js'
import { MEMORY_MAX } from './keys.js'

export function memoryCache<T> (max: number): Cache<T> {
  const lru = boundedCache<string, { value: T }>(max, 60_000)
  return {
    get: async (credential, key, signal) => answered(signal, lru.get(`${credential}\u0000${key}`)?.value),
    set: async (credential, key, value, ttlMs, signal) => {
      if (ttlMs > 0) lru.set(`${credential}\u0000${key}`, { value }, { ttl: ttlMs })
      answered(signal, undefined)
    }
  }
}

interface Waiter { limit: number, wake: () => void }

// Waits in `lane` until woken, or leaves it (and lets the others move) when `signal` aborts.
function waitIn (lane: Waiter[], limit: number, signal: AbortSignal, moved: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const waiter: Waiter = { limit, wake: () => { signal.removeEventListener('abort', onAbort); resolve() } }
    const onAbort = () => {
      lane.splice(lane.indexOf(waiter), 1)
      moved()
      reject(signal.reason)
    }
    lane.push(waiter)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

interface Gate { active: number, first: Waiter[], later: Waiter[] }

// Counting semaphores by name: first come first served, except that waiters marked `later` wait
// for every other one. Each waiter brings the limit in force when it asked (a limit Qualys
// lowered applies to the calls that come after).
export function semaphores () {
  const gates = new Map<string, Gate>()
  const queued = (g: Gate) => g.first.length + g.later.length

  function pump (name: string, gate: Gate) {
    for (;;) {
      const lane = gate.first.length > 0 ? gate.first : gate.later
      const next = lane[0]
      if (next === undefined || gate.active >= next.limit) break
      lane.shift()
      gate.active++
      next.wake()
    }
    if (gate.active === 0 && queued(gate) === 0) gates.delete(name)
  }

  const gateOf = (name: string): Gate => {
    let gate = gates.get(name)
    if (gate === undefined) gates.set(name, gate = { active: 0, first: [], later: [] })
    return gate
  }
  const releaser = (name: string, g: Gate): Release => {
    let released = false
    return () => {
      if (released) return
      released = true
      g.active--
      pump(name, g)
    }
  }

  async function acquire (name: string, limit: number, signal: AbortSignal, later = false): Promise<Release> {
    signal.throwIfAborted()
    const g = gateOf(name)
    if ((later ? queued(g) : g.first.length) === 0 && g.active < limit) g.active++
    else await waitIn(later ? g.later : g.first, limit, signal, () => pump(name, g))
    return releaser(name, g)
  }

  // A slot now, or undefined at once (nobody waits, none taken).
  function tryAcquire (name: string, limit: number): Release | undefined {
    const g = gateOf(name)
    if (queued(g) > 0 || g.active >= limit) {
      if (g.active === 0 && queued(g) === 0) gates.delete(name)
      return undefined
    }
    g.active++
    return releaser(name, g)
  }

  return { acquire, tryAcquire }
}

// The process's own state: one relay, or a replica while Redis is down.
export function memoryState (answersMax: number): State {
  const { acquire, tryAcquire } = semaphores()
  return {
    tokens: memoryCache(MEMORY_MAX.token),
    answers: memoryCache(answersMax),
    results: memoryCache(MEMORY_MAX.result),
    marks: memoryCache(MEMORY_MAX.mark),
    budget: memoryBudget(MEMORY_MAX.budget),
    lock: (credential, name, signal) => acquire(`lock\u0000${credential}\u0000${name}`, 1, signal),
    tryLock: async (credential, name, signal) => {
      signal?.throwIfAborted()
      return tryAcquire(`lock\u0000${credential}\u0000${name}`, 1)
    },
    slot: (credential, limit, signal, later) => acquire(`slots\u0000${credential}`, limit, signal, later)
  }
}
