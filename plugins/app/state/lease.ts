import type { Mutex, Semaphore, LockOptions } from 'redis-semaphore'
import type { Circuit } from './circuit.js'

// How often a replica waiting for a lock or a slot asks Redis again. Only one waiter per lock and
// one per free local slot polls (the process's own gate comes first).
const RETRY_MS = 5
const DAY_MS = 86_400_000

// A lock's lease is renewed five times per lease: a replica whose event loop lags by up to four
// fifths of the lease keeps what it holds.
const renewEvery = (leaseMs: number) => Math.max(20, Math.floor(leaseMs / 5))

export type MakeLock = (options: LockOptions) => Mutex | Semaphore

// Rejects as soon as `signal` aborts, whatever `p` still does.
function abortable<T> (p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

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
  // Runs fn holding a lock made by `make`; without it when Redis is down or goes down while we
  // wait (waiting is otherwise bounded by `signal` only). An attempt abandoned on our side may
  // still have taken the lock in Redis: its twin (same identifier) gives it back, else it would
  // block the others for a whole lease.
  return async function holding<T> (make: MakeLock, kind: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    if (!circuit.up) {
      onFallback(kind)
      return fn()
    }
    const lock = make({ lockTimeout: leaseMs, acquireTimeout: DAY_MS, retryInterval: RETRY_MS, refreshInterval: 0 })
    const twin = () => make({ identifier: lock.identifier, acquiredExternally: true, lockTimeout: leaseMs, refreshInterval: 0 })
    const waiting = AbortSignal.any([signal, circuit.signal])
    try {
      await abortable(lock.acquire(waiting), waiting)
    } catch (err) {
      twin().release().catch(() => {})
      if (signal.aborted) throw err
      onFallback(kind)
      return fn()
    }
    const stop = renewing(circuit, leaseMs, twin, () => onFallback(`${kind}_lost`))
    try {
      return await fn()
    } finally {
      stop()
      lock.release().catch(() => {}) // a lock Redis forgot expires with its lease
    }
  }
}
