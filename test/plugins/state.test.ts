import t from 'tap'
import { createCircuit } from '../../plugins/app/state/circuit.js'
import { memoryState, semaphores } from '../../plugins/app/state/memory.js'

// The circuit's timer does not hold the process open (unref): this one does, while tests wait on it.
const alive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(alive))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const block = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end); }

function circuit (silenceMs = 200, probe: () => Promise<unknown> = async () => 'PONG') {
  const changes: boolean[] = []
  const c = createCircuit({ silenceMs, probe, onChange: (up) => changes.push(up) })
  return { c, changes }
}

t.test('circuit: up when connected; no answer at all for the silence → down; the first answer → up', async (t) => {
  const { c, changes } = circuit(200, () => new Promise(() => {})) // the probe never answers
  t.teardown(c.stop)
  t.equal(c.up, false, 'down until connected')
  await t.rejects(c.run(async () => 1), { name: 'RedisDown' }, 'a command while down fails at once')
  c.connected()
  t.equal(await c.run(async () => 42), 42)
  let answer: (v: string) => void = () => {}
  const silent = new Promise<string>((resolve) => { answer = resolve })
  c.track(silent)
  const waiting = c.run(() => silent)
  await sleep(100)
  t.equal(c.up, true, 'one slow reply is not down')
  const started = Date.now()
  await t.rejects(waiting, { name: 'RedisDown' }, 'the waiting command is given up once Redis counts as down')
  t.ok(Date.now() - started < 1000, 'about the silence later')
  t.equal(c.signal.aborted, true, 'and the down signal fired')
  answer('late')
  await sleep(10)
  t.equal(c.up, true, 'the late answer brings it back')
  t.same(changes, [true, false, true])
})

t.test('circuit: event-loop lag is not silence', async (t) => {
  const { c, changes } = circuit(200)
  t.teardown(c.stop)
  c.connected()
  const reply = new Promise((resolve) => setTimeout(resolve, 1))
  c.track(reply)
  block(1500) // 7.5× the silence, with the reply waiting behind the blocked loop
  await reply
  await sleep(50)
  t.equal(c.up, true)
  t.same(changes, [true], 'never down')
})

t.test('circuit: consecutive failures mean down; a reply error is an answer', async (t) => {
  const { c, changes } = circuit(10_000)
  t.teardown(c.stop)
  c.connected()
  const replyError = Object.assign(new Error('WRONGTYPE'), { name: 'ReplyError' })
  for (let i = 0; i < 5; i++) await c.run(() => { const p = Promise.reject(replyError); c.track(p); return p }).catch(() => {})
  t.equal(c.up, true, 'Redis answered, with an error')
  const fail = () => c.run(() => { const p = Promise.reject(new Error('Connection is closed.')); c.track(p); return p }).catch(() => {})
  await fail()
  t.equal(c.up, true, 'one failure to answer: still up')
  await fail()
  t.equal(c.up, true, 'two in a row: still up')
  await fail()
  t.equal(c.up, false, 'three in a row: down')
  await sleep(250) // the next tick sends the probe
  t.equal(c.up, true, 'the probe answered: up')
  await fail()
  await fail()
  await c.run(() => { const p = Promise.resolve('OK'); c.track(p); return p })
  await fail()
  await fail()
  t.equal(c.up, true, 'an answer between failures starts the count again')
  c.disconnected()
  t.equal(c.up, false, 'a dropped connection: down at once')
  t.same(changes, [true, false, true, false])
})

// Runs `fn` holding one of `limit` slots of `name`, as the client's slots layer does.
const holding = ({ acquire }: ReturnType<typeof semaphores>) => async <T>(name: string, limit: number, signal: AbortSignal, fn: () => Promise<T>, later = false) => {
  const release = await acquire(name, limit, signal, later)
  try {
    return await fn()
  } finally {
    release()
  }
}

t.test('in-process semaphore: the cap holds, first come first served, a lowered limit applies, a deadline leaves the queue', async (t) => {
  const run = holding(semaphores())
  let inFlight = 0
  let max = 0
  const order: number[] = []
  const job = (i: number, ms: number) => async () => {
    inFlight++
    max = Math.max(max, inFlight)
    order.push(i)
    await sleep(ms)
    inFlight--
    return i
  }
  const forever = new AbortController().signal
  const results = await Promise.all([0, 1, 2, 3, 4].map((i) => run('a', 2, forever, job(i, 20))))
  t.same(results, [0, 1, 2, 3, 4])
  t.equal(max, 2, 'never more than 2 at once')
  t.same(order, [0, 1, 2, 3, 4], 'in the order they asked')
  max = 0
  const first = run('a', 2, forever, job(10, 50))
  const second = run('a', 2, forever, job(11, 50))
  const lowered = run('a', 1, forever, job(12, 10)) // Qualys said 1: waits until both are done
  await Promise.all([first, second, lowered])
  t.equal(order.at(-1), 12)
  const holder = run('b', 1, forever, job(20, 200))
  await t.rejects(run('b', 1, AbortSignal.timeout(50), job(21, 10)), { name: 'TimeoutError' }, 'a waiter whose deadline passes gives up')
  t.equal(await run('b', 1, forever, job(22, 10)), 22, 'and leaves no hole in the queue')
  await holder
  t.notOk(order.includes(21), 'the abandoned job never ran')
})

t.test('in-process semaphore: waiters that come later (tiles, health) wait for every other waiter', async (t) => {
  const run = holding(semaphores())
  const order: string[] = []
  const job = (name: string) => async () => { order.push(name); await sleep(20) }
  const forever = new AbortController().signal
  const busy = run('c', 1, forever, job('busy'))
  const waiting = [
    run('c', 1, forever, job('tile 1'), true),
    run('c', 1, forever, job('investigation 1')),
    run('c', 1, forever, job('tile 2'), true),
    run('c', 1, forever, job('investigation 2'))
  ]
  await Promise.all([busy, ...waiting])
  t.same(order, ['busy', 'investigation 1', 'investigation 2', 'tile 1', 'tile 2'])
  order.length = 0
  await run('c', 1, forever, job('alone'), true)
  t.same(order, ['alone'], 'a later waiter alone takes a free slot at once')
})

t.test('in-process state: tokens have their own cache, answers cannot evict them; a real mutex', async (t) => {
  const state = memoryState(2)
  const expiresAt = Date.now() + 60_000
  await state.tokens.set('c', 'token', { token: 'tok', expiresAt }, 60_000)
  for (let i = 0; i < 10; i++) await state.answers.set('c', `q${i}`, { status: 200, text: `[${i}]` }, 60_000)
  t.same(await state.tokens.get('c', 'token'), { token: 'tok', expiresAt })
  t.equal(await state.answers.get('c', 'q0'), undefined, 'the lookup cache keeps LOOKUP_CACHE_MAX entries')
  t.same(await state.answers.get('c', 'q9'), { status: 200, text: '[9]' })
  const events: string[] = []
  const forever = new AbortController().signal
  await Promise.all([1, 2].map(async (i) => {
    const release = await state.lock('c', 'login', forever)
    events.push(`in ${i}`)
    await sleep(20)
    events.push(`out ${i}`)
    release()
  }))
  t.same(events, ['in 1', 'out 1', 'in 2', 'out 2'], 'one holder at a time')
})
