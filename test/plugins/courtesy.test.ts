import t from 'tap'
import { courtesy, COURTESY_MS } from '../../plugins/app/state/lease.js'

// The courtesy a replica shows the others after giving back a shared slot (state/lease.ts), on a
// clock of the test's own.
t.test('after a slot is given back, its next asker waits out the courtesy; any other name does not', async (t) => {
  let clock = 1000
  const c = courtesy(() => clock)
  const never = new AbortController().signal
  const timed = async (name: string, signal = never) => {
    const started = performance.now()
    await c.wait(name, signal)
    return performance.now() - started
  }
  t.ok(await timed('slots-a') < COURTESY_MS / 2, 'nothing given back: at once')
  c.given('slots-a')
  t.ok(await timed('slots-b') < COURTESY_MS / 2, 'another name: at once')
  const waited = await timed('slots-a')
  t.ok(waited >= COURTESY_MS - 2 && waited < COURTESY_MS + 500, `given back just now: waited ${waited.toFixed(1)} ms (courtesy ${COURTESY_MS} ms)`)
  clock += COURTESY_MS
  t.ok(await timed('slots-a') < COURTESY_MS / 2, 'given back a courtesy ago: at once')

  const aborted = new AbortController()
  c.given('slots-a')
  const waiting = c.wait('slots-a', aborted.signal)
  const reason = new Error('deadline')
  aborted.abort(reason)
  await t.rejects(waiting, reason, 'the caller\'s abort ends the wait, with its reason')
})

t.test('it remembers a bounded number of names, forgetting the oldest', async (t) => {
  const c = courtesy(() => 0)
  const never = new AbortController().signal
  for (let i = 0; i <= 1000; i++) c.given(`slots-${i}`)
  const started = performance.now()
  await c.wait('slots-0', never)
  t.ok(performance.now() - started < COURTESY_MS / 2, 'the oldest of 1001 names is forgotten')
  const again = performance.now()
  await c.wait('slots-1000', never)
  t.ok(performance.now() - again >= COURTESY_MS - 2, 'the newest is kept')
})
