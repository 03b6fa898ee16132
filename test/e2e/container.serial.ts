import path from 'node:path'
import t from 'tap'
import { bearer, ctimErrors, DEMO, hsToken, registerSecret, ROOT, SECRET_KEY, withSimulator } from '../helper.js'
import { buildRelayImage, startToHealthy } from '../../scripts/container-image.js'
import { freePort } from '../../scripts/free-port.js'
import { PROGRAMS, withPrograms } from '../system.js'

// Run alone, after the parallel suite (npm run test:container, part of npm test): beside other
// test files the disk is so busy that npm ci inside the build ran out of file descriptors
// (EMFILE at 20,000, reproduced twice; alone it passed every time).
// The Containerfile, built and run for real with podman (scripts/container-image.ts: no registry
// is reachable here, so the base image is made from Debian packages and npm's Node 26 binary).
withPrograms(t, [PROGRAMS.podman, PROGRAMS.runc, PROGRAMS.mmdebstrap, PROGRAMS.netavark],
  'the container image: built, healthy, non-root, serves observe, finishes a request on SIGTERM, logs no secret', async (t, paths) => {
    const img = await buildRelayImage({ podman: paths.podman as string, mmdebstrap: paths.mmdebstrap as string }, ROOT, path.join(ROOT, '.podman', String(process.pid)))
    t.teardown(img.remove)
    const podman = img.podman
    t.pass(`base image in ${Math.round(img.seconds.base)} s, relay image in ${Math.round(img.seconds.relay)} s`)
    t.ok(img.addedMb > 0 && img.addedMb < 40, `the image adds ${img.addedMb.toFixed(1)} MB to its base (goal < 40 MB)`)
    const config = JSON.parse(await podman('image', 'inspect', img.image))[0].Config
    t.equal(config.User, 'node', 'runs as the node user')
    t.match((await podman('run', '--rm', img.image, 'node', '--version')).trim(), /^v26\.\d+\.\d+$/, 'on Node.js 26, the active LTS line')
    t.equal(config.StopSignal, 'SIGTERM')
    t.ok(config.Env.includes('NODE_ENV=production') && config.Env.includes('PORT=9090'), 'NODE_ENV=production, PORT 9090')

    const sim = await withSimulator(t)
    const port = await freePort()
    const name = `qualys-ioc-relay-test-${process.pid}`
    const { healthyMs, answerMs } = await startToHealthy(img, name,
      { PORT: String(port), HOST: '127.0.0.1', API_URL: sim.url, SECRET_KEY, LOOKUP_CACHE_TTL_S: '0' }, 500)
    t.ok(healthyMs !== undefined, `the HEALTHCHECK (/watchdog) passes, ${healthyMs} ms after podman run (first answer after ${answerMs} ms)`)

    const url = `http://127.0.0.1:${port}`
    t.same(await (await fetch(`${url}/version`, { method: 'POST' })).json(), { version: '2.0.0' })
    const token = hsToken(DEMO)
    const observe = (value: string) => fetch(`${url}/observe/observables`, { method: 'POST', headers: bearer(token), body: JSON.stringify([{ type: 'mutex', value }]) })
    const answer = await (await observe('MSFTHISTORY!')).json() as any
    t.notOk(answer.errors)
    t.equal(answer.data.sightings.count, 2, 'observe over HTTP against the simulator')
    t.same(ctimErrors(answer.data), [], 'valid CTIM from the image')
    const status = await podman('exec', name, 'cat', '/proc/1/status')
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1]
    t.ok(uid !== undefined && uid !== '0', `the relay process runs as uid ${uid}`)

    // The tenant check, inside the image, against the simulator (password from the environment).
    const check = await podman('exec', '-e', `QUALYS_PASSWORD=${DEMO.pass}`, name, 'node', 'dist/scripts/check-qualys.js', '--api-url', sim.url, '--user', DEMO.user)
    t.match(check, /Settings for the relay:\n {2}QUALYS_CONCURRENCY=2\n/, 'node dist/scripts/check-qualys.js runs in the image')
    t.notOk(check.includes(DEMO.pass), 'and prints no password')

    // SIGTERM while a request waits 2 s on Qualys: the request is answered, then the process exits 0.
    sim.latencyMs = 2000
    const slow = observe('MSFTHISTORY!')
    await new Promise((resolve) => setTimeout(resolve, 500))
    await podman('kill', '--signal', 'TERM', name)
    const res = await slow
    t.equal(res.status, 200)
    t.equal(((await res.json()) as any).data?.sightings?.count, 2, 'the request in flight finished after SIGTERM')
    t.equal((await podman('wait', name)).trim(), '0', 'and the container exited 0')

    const logs = await podman('logs', name)
    t.match(logs, /closing: finishing requests in flight/)
    for (const call of sim.calls) registerSecret(call.token)
    const secrets = [SECRET_KEY, DEMO.pass, token, ...sim.calls.map((c) => c.token).filter((s): s is string => s !== undefined)]
    t.same(secrets.filter((secret) => logs.includes(secret)).map((s) => `${s.slice(0, 6)}…`), [], 'no secret from the environment or the requests in podman logs')
  }, { timeout: 1_500_000 })
