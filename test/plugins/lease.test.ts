import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { LockOptions, Mutex } from 'redis-semaphore'
import t from 'tap'
import { createCircuit } from '../../plugins/app/state/circuit.js'
import { leases, type MakeLock } from '../../plugins/app/state/lease.js'

// The lease bookkeeping of the Redis state (state/lease.ts) without a Redis: a lock stands in for
// redis-semaphore's (the same acquire/tryAcquire/release, a holder with an expiring lease, a twin
// made with acquiredExternally renewing it), and the circuit is the real one, told by hand whether
// Redis is up. The Redis suite runs the same module against a real redis-server.

interface Holder { id: string, until: number }

function fakeRedis () {
  const held = new Map<string, Holder>()
  const calls = { acquire: 0, renew: 0, release: 0 }
  let failing = false
  let hanging = false
  const make = (name: string): MakeLock => (o: LockOptions) => {
    const identifier = o.identifier ?? randomUUID()
    const lease = o.lockTimeout ?? 10_000
    const take = async (): Promise<boolean> => {
      if (failing) throw new Error('connection lost')
      const h = held.get(name)
      if (o.acquiredExternally === true) { // the twin renews a lease it still holds, takes nothing
        calls.renew++
        if (h?.id !== identifier || h.until < Date.now()) return false
        h.until = Date.now() + lease
        return true
      }
      if (h !== undefined && h.until >= Date.now() && h.id !== identifier) return false
      held.set(name, { id: identifier, until: Date.now() + lease })
      return true
    }
    const lock = {
      identifier,
      tryAcquire: take,
      async acquire (signal?: AbortSignal) {
        calls.acquire++
        while (!(await take())) {
          await sleep(o.retryInterval ?? 5)
          signal?.throwIfAborted()
        }
        if (hanging) await new Promise(() => {}) // taken in Redis, the reply never comes
      },
      async release () {
        calls.release++
        if (held.get(name)?.id === identifier) held.delete(name)
      }
    }
    return lock as unknown as Mutex
  }
  return { held, calls, make, fail: (on: boolean) => { failing = on }, hang: (on: boolean) => { hanging = on } }
}

function setup (t: { teardown: (fn: () => void) => void }, leaseMs = 100) {
  const circuit = createCircuit({ silenceMs: 1000, probe: async () => {}, onChange: () => {} })
  t.teardown(() => circuit.stop())
  circuit.connected()
  const fallbacks: string[] = []
  return { circuit, fallbacks, ...leases(circuit, leaseMs, (kind) => fallbacks.push(kind)) }
}

const never = () => new AbortController().signal

t.test('a lock is held until released, renewed meanwhile, released once', async (t) => {
  const redis = fakeRedis()
  const { hold, tryHold, fallbacks } = setup(t, 100)
  const release = await hold(redis.make('a'), 'lock', never())
  t.equal(redis.held.size, 1, 'taken in Redis')
  await sleep(350) // over three leases: only the renewals keep it
  t.ok(redis.calls.renew >= 5, `renewed ${redis.calls.renew} times in 3.5 leases`)
  t.equal(await tryHold(redis.make('a'), 'lock'), undefined, 'still held: another asker gets nothing')

  let second = false
  const waiting = hold(redis.make('a'), 'lock', never()).then((r) => { second = true; return r })
  await sleep(50)
  t.notOk(second, 'a second holder waits')
  release()
  release()
  const next = await waiting
  t.equal(redis.calls.release, 1, 'released once, whatever the caller does twice')
  t.ok(second, 'then the waiter has it')
  next()
  await sleep(10)
  t.equal(redis.held.size, 0, 'nothing left in Redis')
  t.same(fallbacks, [], 'no fallback')
})

t.test('a lease found gone is counted once, and renewing stops', async (t) => {
  const redis = fakeRedis()
  const { hold, fallbacks } = setup(t, 100)
  const release = await hold(redis.make('b'), 'slot', never())
  redis.held.clear() // Redis forgot it (a restart, an expiry during a long pause)
  await sleep(150)
  t.same(fallbacks, ['slot_lost'], 'slot_lost, once')
  const renewals = redis.calls.renew
  await sleep(100)
  t.equal(redis.calls.renew, renewals, 'no renewal after the loss')
  release()
})

t.test('waiting ends with the caller\'s abort; a lock taken meanwhile is given back', async (t) => {
  const redis = fakeRedis()
  const { hold, fallbacks } = setup(t, 100)
  redis.hang(true)
  const controller = new AbortController()
  const reason = new Error('the deadline passed')
  const waiting = hold(redis.make('c'), 'lock', controller.signal)
  await sleep(30)
  t.equal(redis.held.size, 1, 'the attempt took the lock in Redis, its reply lost')
  controller.abort(reason)
  await t.rejects(waiting, reason, 'rejected with the caller\'s reason')
  await sleep(10)
  t.equal(redis.held.size, 0, 'the twin released what the abandoned attempt took')
  t.same(fallbacks, [], 'an abort is not a fallback')
})

t.test('Redis down: going on without the lock, counted', async (t) => {
  const redis = fakeRedis()
  const { hold, tryHold, circuit, fallbacks } = setup(t, 100)
  const first = await hold(redis.make('d'), 'lock', never())
  const waiting = hold(redis.make('d'), 'lock', never())
  await sleep(20)
  circuit.disconnected()
  const release = await waiting
  t.same(fallbacks, ['lock'], 'Redis went down while waiting: on without it')
  release()
  first()
  t.type(await hold(redis.make('d'), 'lock', never()), 'function', 'down at the start: a release at once')
  t.type(await tryHold(redis.make('d'), 'lock'), 'function', 'tryHold too')
  t.same(fallbacks, ['lock', 'lock', 'lock'])
  t.equal(redis.calls.acquire, 2, 'nothing asked of Redis while it is down')
})

t.test('tryHold: free, taken, and a failed command', async (t) => {
  const redis = fakeRedis()
  const { tryHold, fallbacks } = setup(t, 100)
  const release = await tryHold(redis.make('e'), 'refresh')
  t.type(release, 'function', 'free: held')
  t.equal(await tryHold(redis.make('e'), 'refresh'), undefined, 'taken: undefined')
  release?.()
  await sleep(10)
  redis.fail(true)
  t.type(await tryHold(redis.make('e'), 'refresh'), 'function', 'the command failed: on without it')
  t.same(fallbacks, ['refresh'], 'counted')
})

t.test('a later waiter given mayAsk asks only while it says so, once per poll, and its abort ends the wait', async (t) => {
  const redis = fakeRedis()
  const { hold } = setup(t, 1000)
  let allowed = false
  let asked = 0
  const mayAsk = async () => { asked++; return allowed }
  let held = false
  const waiting = hold(redis.make('f'), 'slot', never(), true, mayAsk).then((release) => { held = true; return release })
  await sleep(220)
  t.notOk(held, 'the slot is free, but mayAsk says no: not taken')
  t.equal(redis.held.size, 0, 'nothing asked of Redis for it')
  t.ok(asked >= 3 && asked <= 6, `asked mayAsk every 50 ms: ${asked} times in 220 ms`)
  allowed = true
  const release = await waiting
  t.equal(redis.held.size, 1, 'then taken')
  release()

  const controller = new AbortController()
  allowed = false
  const aborted = hold(redis.make('g'), 'slot', controller.signal, true, mayAsk)
  controller.abort(new Error('deadline'))
  await t.rejects(aborted, /deadline/, 'the caller\'s abort ends it')
})
