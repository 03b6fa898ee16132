import { boundedCache } from '../../../lib/bounded-cache.js'
import type { Cache, State } from './contract.js'
import { MEMORY_MAX } from './keys.js'

export function memoryCache<T> (max: number): Cache<T> {
  const lru = boundedCache<string, { value: T }>(max, 60_000)
  return {
    get: async (credential, key) => lru.get(`${credential}\u0000${key}`)?.value,
    set: async (credential, key, value, ttlMs) => {
      if (ttlMs > 0) lru.set(`${credential}\u0000${key}`, { value }, { ttl: ttlMs })
    }
  }
}

interface Waiter { limit: number, wake: () => void }
interface Gate { active: number, queue: Waiter[] }

// Counting semaphores by name, first come first served. Each waiter brings the limit in force
// when it asked (a limit Qualys lowered applies to the calls that come after).
export function semaphores () {
  const gates = new Map<string, Gate>()

  function pump (name: string, gate: Gate) {
    for (let next = gate.queue[0]; next !== undefined && gate.active < next.limit; next = gate.queue[0]) {
      gate.queue.shift()
      gate.active++
      next.wake()
    }
    if (gate.active === 0 && gate.queue.length === 0) gates.delete(name)
  }

  async function acquire (name: string, limit: number, signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted()
    let gate = gates.get(name)
    if (gate === undefined) gates.set(name, gate = { active: 0, queue: [] })
    const g = gate
    if (g.queue.length === 0 && g.active < limit) g.active++
    else {
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { limit, wake: () => { signal.removeEventListener('abort', onAbort); resolve() } }
        const onAbort = () => {
          g.queue.splice(g.queue.indexOf(waiter), 1)
          pump(name, g)
          reject(signal.reason)
        }
        g.queue.push(waiter)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    }
    let released = false
    return () => {
      if (released) return
      released = true
      g.active--
      pump(name, g)
    }
  }

  return async function run<T> (name: string, limit: number, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const release = await acquire(name, limit, signal)
    try {
      return await fn()
    } finally {
      release()
    }
  }
}

// The process's own state: one relay, or a replica while Redis is down.
export function memoryState (lookupMax: number): State {
  const run = semaphores()
  return {
    tokens: memoryCache(MEMORY_MAX.token),
    lookups: memoryCache(lookupMax),
    tiles: memoryCache(MEMORY_MAX.tile),
    marks: memoryCache(MEMORY_MAX.mark),
    exclusive: (credential, name, signal, fn) => run(`lock\u0000${credential}\u0000${name}`, 1, signal, fn),
    slot: (credential, limit, signal, fn) => run(`slots\u0000${credential}`, limit, signal, fn)
  }
}
