import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { memoryState } from '../../plugins/app/state/memory.js'
import { openRedisState } from '../../plugins/app/state/redis.js'
import type { State } from '../../plugins/app/state/index.js'
import { Deadline } from '../../plugins/app/qualys/deadline.js'
import { deadline } from '../../plugins/app/qualys/layers/deadline.js'
import type { Call } from '../../plugins/app/qualys/chain.js'
import type { Answer } from '../../lib/qualys/protocol.js'
import { startRedis } from '../redis.js'
import { PROGRAMS, withPrograms } from '../system.js'

// Every State method takes the caller's abort signal (a request's deadline): once it aborts, the
// method rejects with the signal's own reason, but what it was asked to do still happens (a count,
// a stored value) and a lock or slot is never left held. The same contract for the process's
// state and for Redis.

// The deadline's timer does not hold the process open (unref): this one does, while tests wait on it.
const alive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(alive))

const BUDGET = { limit: 300, remaining: 200, windowSec: 3600 }
const aborted = (reason: unknown) => { const c = new AbortController(); c.abort(reason); return c.signal }
const forever = new AbortController().signal

async function rejectsWith (t: any, p: Promise<unknown>, reason: unknown, what: string) {
  try {
    await p
    t.fail(`${what}: resolved`)
  } catch (err) {
    t.equal(err, reason, `${what}: rejects with the signal's reason`)
  }
}

async function contract (t: any, state: State) {
  const reason = new Error('the deadline')
  const gone = aborted(reason)
  // Caches: a set done whatever the signal, a get answered with the abort.
  await rejectsWith(t, state.marks.set('c', 'm', 7, 60_000, gone), reason, 'marks.set')
  t.equal(await state.marks.get('c', 'm'), 7, 'the value was stored all the same')
  await rejectsWith(t, state.marks.get('c', 'm', gone), reason, 'marks.get')
  await rejectsWith(t, state.answers.get('c', 'q', gone), reason, 'answers.get')
  await rejectsWith(t, state.tokens.get('c', 'token', gone), reason, 'tokens.get')
  await rejectsWith(t, state.results.set('c', 'r', { x: 1 }, 60_000, gone), reason, 'results.set')
  t.same(await state.results.get('c', 'r'), { x: 1 })
  // The budget: the calls are counted whatever the signal (a call's count is never lost).
  await rejectsWith(t, state.budget.seen('c', BUDGET, Date.now(), gone), reason, 'budget.seen')
  await rejectsWith(t, state.budget.spend('c', gone), reason, 'budget.spend')
  t.equal((await state.budget.get('c'))?.inflight, 1, 'the aborted spend counted')
  await rejectsWith(t, state.budget.settle('c', gone), reason, 'budget.settle')
  t.equal((await state.budget.get('c'))?.inflight, 0, 'the aborted settle counted')
  await rejectsWith(t, state.budget.get('c', gone), reason, 'budget.get')
  // Locks and slots: an aborted wait holds nothing.
  await rejectsWith(t, state.lock('c', 'l', gone), reason, 'lock')
  await rejectsWith(t, state.tryLock('c', 'l', gone), reason, 'tryLock')
  await rejectsWith(t, state.slot('c', 1, gone), reason, 'slot')
  const lock = await state.tryLock('c', 'l')
  t.ok(lock !== undefined, 'the lock is free: no aborted attempt kept it')
  lock?.()
  // A wait under way ends when the signal aborts, with its reason, and gives its place back.
  const held = await state.slot('c', 1, forever)
  const waiting = new AbortController()
  const wait = state.slot('c', 1, waiting.signal)
  const queued = state.slot('c', 1, forever)
  const stop = new Error('stopped waiting')
  setTimeout(() => waiting.abort(stop), 30)
  await rejectsWith(t, wait, stop, 'a slot waited for')
  held()
  const next = await queued
  t.pass('the next waiter got the slot')
  next()
  const holder = await state.lock('c', 'l', forever)
  const lockWait = new AbortController()
  const lockWaiting = state.lock('c', 'l', lockWait.signal)
  setTimeout(() => lockWait.abort(stop), 30)
  await rejectsWith(t, lockWaiting, stop, 'a lock waited for')
  holder()
  const again = await state.tryLock('c', 'l')
  t.ok(again !== undefined, 'the lock is free again')
  again?.()
}

t.test('the process\'s state: every method takes the signal', async (t) => {
  await contract(t, memoryState(100))
})

t.test('a request\'s deadline aborts with the relay\'s timeout error: whatever takes its signal fails with it', async (t) => {
  const d = new Deadline(50)
  t.notOk(d.passed)
  const state = memoryState(10)
  const release = await state.lock('c', 'x', forever)
  const started = Date.now()
  const err = await state.lock('c', 'x', d.signal).then(() => undefined, (e: unknown) => e)
  const took = Date.now() - started
  t.equal(err, d.signal.reason, 'a lock held by another: the wait rejects with the deadline\'s reason')
  t.ok(took >= 40 && took < 2000, `the wait ended with the deadline (${took} ms)`)
  t.match(d.signal.reason, { code: 'timeout', message: 'Qualys IOC did not answer in time (limit 50 ms)', type: 'fatal' })
  t.throws(() => d.check(), d.signal.reason as Error)
  t.ok(d.passed)
  release()
})

t.test('a deadline ended with its request: its timer goes, or goes with the last call still under way', async (t) => {
  const idle = new Deadline(50)
  t.ok(idle.ticking)
  idle.end()
  t.notOk(idle.ticking, 'no call under way: the timer goes at once')
  await sleep(120)
  t.notOk(idle.signal.aborted, 'and never fires')

  // A call under way when its request ended (the other half of a group whose first half failed)
  // keeps the time it had: the top layer counts it.
  const d = new Deadline(50)
  const waits = (call: Call) => new Promise<Answer>((_resolve, reject) => call.deadline.signal.addEventListener('abort', () => reject(call.deadline.signal.reason)))
  const started = Date.now()
  const orphan = deadline({ deadline: d } as Call, waits).then(() => undefined, (e: unknown) => e)
  d.end()
  t.ok(d.ticking, 'a call under way: the timer stays')
  const err = await Promise.race([orphan, sleep(2000, 'still waiting after 2 s')])
  const took = Date.now() - started
  t.match(err, { code: 'timeout' }, 'the call under way still ends with the deadline')
  t.ok(took >= 40 && took < 2000, `at its time (${took} ms)`)

  const e = new Deadline(5000)
  let answer!: (a: Answer) => void
  const call = deadline({ deadline: e } as Call, () => new Promise<Answer>((resolve) => { answer = resolve }))
  e.end()
  t.ok(e.ticking, 'a call under way')
  answer({ status: 200, headers: {}, text: '' })
  await call
  t.notOk(e.ticking, 'the timer goes with the last call back')
})

withPrograms(t, [PROGRAMS.redis], 'Redis\'s state: every method takes the signal, and a Redis that does not answer is not waited for past it', async (t, paths) => {
  const server = await startRedis(t, paths['redis-server'] as string)
  const fallbacks: string[] = []
  const shared = openRedisState({
    url: server.url,
    prefix: 'sig:',
    leaseMs: 3000,
    silenceMs: 10_000, // long: the signal, not the circuit, must end the wait below
    local: memoryState(100),
    log: { info: () => {}, warn: () => {} },
    onUp: () => {},
    onFallback: (kind) => fallbacks.push(kind)
  })
  t.teardown(shared.close)
  for (let i = 0; shared.redis.status !== 'ready'; i++) {
    if (i > 200) throw new Error('redis never ready')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  await contract(t, shared.state)
  // Stored in Redis too, not only in the process: a second client sees the aborted set's key.
  const client = new Redis(server.port, '127.0.0.1')
  t.teardown(() => client.disconnect())
  t.ok((await client.keys('sig:*')).length >= 2, 'the aborted sets reached Redis')

  // Redis stops answering (CLIENT PAUSE): a get with a 150 ms signal ends at the signal, with its
  // reason, and is not read as Redis down (no fallback).
  await client.call('CLIENT', 'PAUSE', '3000', 'ALL')
  const before = fallbacks.length
  const c = new AbortController()
  const reason = new Error('deadline')
  setTimeout(() => c.abort(reason), 150)
  const started = Date.now()
  await rejectsWith(t, shared.state.answers.get('c', 'q', c.signal), reason, 'a get Redis does not answer')
  const took = Date.now() - started
  t.ok(took >= 100 && took < 2500, `ended with the signal (${took} ms), not with the 3 s pause`)
  t.equal(fallbacks.length, before, 'no fallback counted for an abort')
  await client.call('CLIENT', 'UNPAUSE')
})
