import type { Mutex, Semaphore, LockOptions } from 'redis-semaphore'
import { setTimeout as sleep } from 'node:timers/promises'
import { abortable } from '../../../lib/abortable.js'
import type { Circuit } from './circuit.js'
import type { Release } from './contract.js'

// How often a replica waiting for a lock or a slot asks Redis again. Only one waiter per lock and
// one per free local slot polls (the process's own gate comes first). Waiters that come later
// (tiles, health) ask ten times less often, so a waiting investigation of another replica
// almost always takes a freed slot first.
const RETRY_MS = 5
const LATER_RETRY_MS = 50
const DAY_MS = 86_400_000

// A replica that gives back a shared slot while its own calls queue for it would take it again
// before any other replica's waiter polls (its next caller asks at once; the others every
// RETRY_MS), and so starve the other replicas for as long as its queue lasts: right after it gave
// a slot back, a replica asks for that slot only after the others' waiters have polled once
// (COURTESY_MS). That costs a replica that alone waits up to COURTESY_MS per call it hands on.
export const COURTESY_MS = 3 * RETRY_MS
const COURTESY_KEPT = 1000 // names remembered at most (the oldest are forgotten first)

// Remembers when this replica last gave back each shared name, and makes its next asker wait out
// the courtesy (or its caller's abort).
export function courtesy (now: () => number = () => performance.now()) {
  const given = new Map<string, number>()
  return {
    given (name: string) {
      given.delete(name)
      given.set(name, now())
      if (given.size > COURTESY_KEPT) given.delete(given.keys().next().value as string)
    },
    async wait (name: string, signal: AbortSignal): Promise<void> {
      const at = given.get(name)
      if (at === undefined) return
      const left = at + COURTESY_MS - now()
      if (left <= 0) {
        given.delete(name)
        return
      }
      await abortable(new Promise((resolve) => setTimeout(resolve, left)), signal)
    }
  }
}

// A lock's lease is renewed five times per lease: a replica whose event loop lags by up to four
// fifths of the lease keeps what it holds.
const renewEvery = (leaseMs: number) => Math.max(20, Math.floor(leaseMs / 5))

export type MakeLock = (options: LockOptions) => Mutex | Semaphore

// Renews a held lock's lease through its twin (acquiredExternally: tryAcquire renews), never
// through an unhandled rejection; a lease found gone is counted. Returns the stop.
function renewing (circuit: Circuit, leaseMs: number, twin: () => Mutex | Semaphore, lost: () => void): () => void {
  let done = false
  let busy = false
  const timer = setInterval(() => {
    if (busy || !circuit.up) return
    busy = true
    circuit.run(() => twin().tryAcquire())
      .then((held) => {
        if (held || done) return
        clearInterval(timer)
        lost()
      }, () => {})
      .finally(() => { busy = false })
  }, renewEvery(leaseMs))
  timer.unref()
  return () => {
    done = true
    clearInterval(timer)
  }
}

export function leases (circuit: Circuit, leaseMs: number, onFallback: (kind: string) => void) {
  // `once`: its tryAcquire asks Redis once (redis-semaphore's tryAcquire otherwise retries until
  // acquireTimeout, as acquire does).
  const make = (from: MakeLock, later: boolean, once = false) => {
    const lock = from({
      lockTimeout: leaseMs, acquireTimeout: DAY_MS, retryInterval: later ? LATER_RETRY_MS : RETRY_MS, refreshInterval: 0, ...(once ? { acquireAttemptsLimit: 1 } : {})
    })
    const twin = () => from({ identifier: lock.identifier, acquiredExternally: true, lockTimeout: leaseMs, refreshInterval: 0 })
    return { lock, twin }
  }
  // A lock taken: renewed until released (once).
  const held = ({ lock, twin }: ReturnType<typeof make>, kind: string): Release => {
    const stop = renewing(circuit, leaseMs, twin, () => onFallback(`${kind}_lost`))
    let released = false
    return () => {
      if (released) return
      released = true
      stop()
      lock.release().catch(() => {}) // a lock Redis forgot expires with its lease
    }
  }
  const without = (kind: string): Release => {
    onFallback(kind)
    return () => {}
  }

  // A later waiter's own polling: it asks for the lock only while `mayAsk` says no first waiter
  // of any replica waits for it, every LATER_RETRY_MS.
  const askLater = async (lock: Mutex | Semaphore, mayAsk: () => Promise<boolean>, waiting: AbortSignal) => {
    for (;;) {
      if (await abortable(circuit.run(mayAsk), waiting) && await abortable(circuit.run(() => lock.tryAcquire()), waiting)) return
      await abortable(sleep(LATER_RETRY_MS), waiting)
    }
  }

  return {
    // Takes a lock made by `from` and returns its release; goes on without it when Redis is down
    // or goes down while we wait (waiting is otherwise bounded by `signal` only). An attempt
    // abandoned on our side may still have taken the lock in Redis: its twin (same identifier)
    // gives it back, else it would block the others for a whole lease. A later waiter given
    // `mayAsk` asks only when that says so.
    async hold (from: MakeLock, kind: string, signal: AbortSignal, later = false, mayAsk?: () => Promise<boolean>): Promise<Release> {
      if (!circuit.up) return without(kind)
      const asking = later && mayAsk !== undefined
      const made = make(from, later, asking)
      const waiting = AbortSignal.any([signal, circuit.signal])
      try {
        await (asking ? askLater(made.lock, mayAsk, waiting) : abortable(made.lock.acquire(waiting), waiting))
      } catch (err) {
        made.twin().release().catch(() => {})
        if (signal.aborted) throw err
        return without(kind)
      }
      return held(made, kind)
    },
    // The lock if it is free now, else undefined (while Redis is down: the process's own only).
    async tryHold (from: MakeLock, kind: string): Promise<Release | undefined> {
      if (!circuit.up) return without(kind)
      const made = make(from, false, true)
      let taken: boolean
      try {
        taken = await circuit.run(() => made.lock.tryAcquire())
      } catch {
        made.twin().release().catch(() => {})
        return without(kind)
      }
      return taken ? held(made, kind) : undefined
    }
  }
}
