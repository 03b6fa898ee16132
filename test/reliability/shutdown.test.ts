import t from 'tap'
import { request } from 'undici'
import { DEMO, hsToken, SECRET_KEY, spawnTs, withSimulator } from '../helper.js'
import { freePort } from '../../scripts/free-port.js'

// The real server.ts process: SIGTERM with a request in flight.
t.test('SIGTERM: in-flight requests finish, new ones are refused, exit 0 within the grace period', async (t) => {
  const sim = await withSimulator(t, { latencyMs: 600 })
  const port = await freePort()
  const server = spawnTs(t, 'server.ts', { PORT: String(port), HOST: '127.0.0.1', API_URL: sim.url, SECRET_KEY, SHUTDOWN_GRACE_MS: '5000', LOG_LEVEL: 'info' })
  await server.waitFor(/Server listening/)
  const url = `http://127.0.0.1:${port}`

  const inflight = request(`${url}/observe/observables`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hsToken(DEMO)}` },
    body: JSON.stringify([{ type: 'mutex', value: 'MSFTHISTORY!' }])
  })
  await new Promise((resolve) => setTimeout(resolve, 300)) // the login is under way
  const started = Date.now()
  server.child.kill('SIGTERM')
  await server.waitFor(/closing: finishing requests in flight/)
  await t.rejects(request(`${url}/version`, { method: 'POST' }), 'a new connection is refused')

  const res = await inflight
  t.equal(res.statusCode, 200)
  const body = await res.body.json() as { data: { sightings: { count: number } } }
  t.equal(body.data.sightings.count, 2, 'the in-flight request finished with its data')
  t.equal(await server.exited, 0, 'exit 0')
  t.ok(Date.now() - started < 5000, `within the grace period (${Date.now() - started} ms)`)
})

t.test('a bad configuration stops start-up with one line naming the variable', async (t) => {
  const server = spawnTs(t, 'server.ts', { PORT: 'x', LOG_LEVEL: 'silent' })
  t.equal(await server.exited, 1)
  t.equal(server.output().trim().split('\n').length, 1, server.output())
  t.match(server.output(), /^qualys-ioc-relay: configuration error: .*PORT/)
  const grace = spawnTs(t, 'server.ts', { SHUTDOWN_GRACE_MS: 'soon' })
  t.equal(await grace.exited, 1)
  t.match(grace.output(), /SHUTDOWN_GRACE_MS/)
})
