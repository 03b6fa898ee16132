import { randomBytes } from 'node:crypto'
import { request, type Agent } from 'undici'
import { bearer, DEMO, EVE, hsToken, registerSecret, SECRET_KEY } from '../helper.js'
import { fetchedTwice } from '../helpers/calls.js'
import { LISTS } from '../helpers/examples.js'
import { caAgent, project, projectNetwork, simulatorOn, untilServing } from '../helpers/compose.js'
import { IMAGES, type Podman } from '../../scripts/container-image.js'
import { freePort } from '../../scripts/free-port.js'
import type { Paths } from '../system.js'

// deploy/compose.replicas.yaml as shipped (run by test/e2e/compose.serial.ts): three replicas, one
// Redis with a password, nginx; a replica stopped (SIGTERM) in the middle of a stream of requests.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function observe (url: string, dispatcher: Agent, who: { user: string, pass: string }, list: unknown[]) {
  const res = await request(`${url}/observe/observables`, { method: 'POST', dispatcher, headers: { ...bearer(hsToken(who)), 'content-type': 'application/json' }, body: JSON.stringify(list) })
  const body = await res.body.json() as { errors?: unknown[], data?: { sightings?: { count: number } } }
  return { status: res.statusCode, errors: body.errors, sightings: body.data?.sightings?.count ?? 0 }
}

export async function replicasUnderLoad (t: any, images: Podman, paths: Paths, ca: string) {
  const name = `relayreplicas${process.pid}`
  const net = await projectNetwork(images, `${name}_default`, paths.ip as string)
  const sim = await simulatorOn(t, net.gateway)
  const password = randomBytes(24).toString('hex')
  registerSecret(password)
  registerSecret(EVE.pass)
  const [https, plain] = [await freePort(), await freePort()]
  const p = project(images, paths['podman-compose'] as string, name, 'compose.replicas.yaml',
    { SECRET_KEY, API_URL: sim.url, REDIS_PASSWORD: password, HTTPS_PORT: String(https), HTTP_PORT: String(plain) })
  await p.compose('up', '--build', '-d')
  const url = `https://127.0.0.1:${https}`
  const dispatcher = caAgent(ca)
  t.teardown(() => dispatcher.close())
  await untilServing(url, dispatcher)
  for (let i = 0; i < 3; i++) await untilServing(url, dispatcher) // round robin: each replica once

  // Redis asks for the password: a container on the project network without it is refused.
  const cli = (...env: string[]) => images.output('run', '--rm', '--network', p.network, ...env, IMAGES.redis, 'redis-cli', '-h', 'redis', 'ping')
  const refused = await cli()
  t.match(refused.stdout + refused.stderr, /NOAUTH Authentication required/, 'no password: refused')
  t.match((await cli('-e', `REDISCLI_AUTH=${password}`)).stdout, /^PONG/, 'with it: PONG')

  // 30 requests at once, two credentials, overlapping lists: one login each, each query once, at
  // most QUALYS_CONCURRENCY (2) calls in flight per credential across the three replicas.
  sim.reset()
  sim.latencyMs = 50
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => observe(url, dispatcher, i % 2 === 0 ? DEMO : EVE, LISTS[i % LISTS.length] as unknown[])))
  const failed = answers.filter((a) => a.status !== 200 || a.errors !== undefined || a.sightings === 0)
  const warnings = async () => (await Promise.all(['relay-1', 'relay-2', 'relay-3', 'nginx'].map((s) => p.logs(s)))).join('\n').split('\n').filter((l) => l.includes('"level":40') || l.includes('[error]'))
  t.same(failed, [], '30 answers, each with sightings and no error', failed.length > 0 ? { warnings: await warnings() } : {})
  t.same([sim.byUser.demo?.logins, sim.byUser.eve?.logins], [1, 1], 'one login per credential across the replicas')
  t.same(fetchedTwice(sim), [], 'each query fetched once')
  t.ok((sim.byUser.demo?.maxInFlight ?? 0) <= 2 && (sim.byUser.eve?.maxInFlight ?? 0) <= 2,
    `calls in flight per credential: ${sim.byUser.demo?.maxInFlight}, ${sim.byUser.eve?.maxInFlight} (QUALYS_CONCURRENCY 2)`)

  // A stream of 60 requests, 6 at a time, each about new observables (so each asks Qualys, 1 s a
  // call); relay-2 is stopped (SIGTERM) after the 12th answer.
  sim.latencyMs = 1000
  const before = sim.calls.length
  const results: Array<Awaited<ReturnType<typeof observe>> & { value: string, sent: number, answered: number }> = []
  let stopping: Promise<unknown> | undefined
  const stoppedAt = new Date()
  await Promise.all(Array.from({ length: 6 }, async (_, worker) => {
    for (let i = worker; i < 60; i += 6) {
      const value = `stream-${i}.example`
      const sent = sim.clock()
      const answer = await observe(url, dispatcher, DEMO, [{ type: 'domain', value }])
      results.push({ value, sent, answered: sim.clock(), ...answer })
      if (results.length === 12 && stopping === undefined) {
        stoppedAt.setTime(Date.now())
        stopping = p.stop('relay-2')
      }
    }
  }))
  await stopping
  // What a failed request went through, on the simulator's clock: the Qualys calls about its
  // observable (when they arrived, how they were answered), relay-2's stop, every answer of a
  // relay that took longer than 10 s (which replica), and the warnings of relays and nginx.
  const whyFailed = async (failed: typeof results) => ({
    failed,
    stoppedAt: sim.clock() - (Date.now() - stoppedAt.getTime()),
    calls: failed.map((f) => ({ value: f.value, calls: sim.calls.filter((c) => c.filter?.includes(f.value) === true).map((c) => ({ at: c.at, status: c.status, state: c.state })) })),
    slow: (await Promise.all(['relay-1', 'relay-2', 'relay-3'].map(async (s) => (await p.logs(s)).split('\n')
      .filter((l) => /"ms":\d{5,}/.test(l)).map((l) => `${s}: ${l}`)))).flat(),
    warnings: await warnings()
  })
  const streamFailed = results.filter((r) => r.status !== 200 || r.errors !== undefined)
  t.same({ sent: 60, answered: results.length - streamFailed.length }, { sent: 60, answered: 60 },
    'a replica stopped mid-stream: no request failed', streamFailed.length > 0 ? await whyFailed(streamFailed) : {})
  const stopped = await p.logs('relay-2')
  const closing = stopped.indexOf('closing: finishing requests in flight')
  const finished = closing < 0 ? 0 : stopped.slice(closing).match(/"msg":"request"/g)?.length ?? 0
  t.ok(closing >= 0, 'relay-2 received SIGTERM and said it finishes its requests in flight', { log: stopped.split('\n').slice(-12) })
  t.ok(finished >= 1, `relay-2 answered ${finished} requests after SIGTERM`, { log: stopped.split('\n').slice(-12) })
  t.equal((await images.podman('inspect', '--format', '{{.State.ExitCode}}', p.container('relay-2'))).trim(), '0', 'and exited 0', { log: stopped.split('\n').slice(-12) })
  t.pass(`${results.length} requests sent, ${sim.calls.length - before} Qualys calls, ${sim.counters.logins} logins in all`)

  // Started again (with another address): nginx follows it (nginx-follow-upstreams.sh reloads it
  // within 5 s: it said so once already when relay-2 went away), and relay-2 serves again.
  const reloads = async () => (await p.logs('nginx')).split('upstream addresses changed').length - 1
  const reloadsBefore = await reloads()
  const since = (await p.logs('relay-2')).length
  const started = Date.now()
  await images.podman('start', p.container('relay-2'))
  for (let i = 0; (await reloads()) === reloadsBefore && i < 40; i++) await sleep(500)
  t.ok(await reloads() > reloadsBefore, `nginx saw relay-2's new address and reloaded (${Date.now() - started} ms after start)`)
  sim.latencyMs = 20
  let asked = 0
  const answeredByRelay2 = async () => (await p.logs('relay-2')).slice(since).includes('"msg":"request"')
  while (!(await answeredByRelay2()) && Date.now() - started < 30_000) {
    await observe(url, dispatcher, DEMO, [{ type: 'domain', value: `again-${asked++}.example` }])
  }
  t.ok(await answeredByRelay2(), `relay-2 rejoined: it answered one of ${asked} requests, ${Date.now() - started} ms after start`)

  const logs = (await Promise.all(['redis', 'relay-1', 'relay-2', 'relay-3', 'nginx'].map((s) => p.logs(s)))).join('\n')
  const tokens = sim.calls.map((c) => c.token).filter((x): x is string => x !== undefined)
  for (const secret of [password, SECRET_KEY, DEMO.pass, EVE.pass, hsToken(DEMO), ...new Set(tokens)]) {
    t.notOk(logs.includes(secret), `no secret in podman logs (${secret.slice(0, 6)}…)`)
  }
  await p.down()
  await net.remove()
  t.same(await p.leftovers(), [], 'down (and network rm) leaves no container, pod, network or volume')
}
