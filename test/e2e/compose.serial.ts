import { execFile as execFileCb } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { request } from 'undici'
import { DEMO, hsToken, registerSecret, ROOT, SECRET_KEY } from '../helper.js'
import { caAgent, certificates, project, projectNetwork, simulatorOn, untilServing } from '../helpers/compose.js'
import { composeImages, type Podman } from '../../scripts/container-image.js'
import { freePort } from '../../scripts/free-port.js'
import { PROGRAMS, withPrograms, type Paths } from '../system.js'
import { replicasUnderLoad } from './compose-replicas.js'

const execFile = promisify(execFileCb)

// Run alone, after the parallel suite (npm run test:container). Both compose files of deploy/,
// run by podman-compose as shipped — no override, no edited copy: host ports, API_URL and the
// secrets come from the environment, as the files' own comments say. The images compose would
// pull are stood in by images made from Debian's packages (scripts/container-image.ts), under the
// names the files give; the relay image is built from the Containerfile by compose itself. The
// simulator runs in this process, listening on the project network's gateway (the host's side of
// the bridge), which the containers reach.

async function single (t: any, images: Podman, paths: Paths, ca: string) {
  const name = `relaysingle${process.pid}`
  const net = await projectNetwork(images, `${name}_default`, paths.ip as string)
  const sim = await simulatorOn(t, net.gateway)
  const [https, plain] = [await freePort(), await freePort()]
  const p = project(images, paths['podman-compose'] as string, name, 'compose.yaml', { SECRET_KEY, API_URL: sim.url, HTTPS_PORT: String(https), HTTP_PORT: String(plain) })
  await p.compose('up', '--build', '-d')
  const url = `https://127.0.0.1:${https}`
  const dispatcher = caAgent(ca)
  t.teardown(() => dispatcher.close())
  await untilServing(url, dispatcher)

  // httpie, as docs/api.md's examples use it, verifying the test CA.
  const http = async (...args: string[]) => JSON.parse((await execFile(paths.http as string, ['--ignore-stdin', '--verify', ca, ...args], { cwd: ROOT })).stdout)
  const token = hsToken(DEMO)
  t.same(await http('POST', `${url}/version`), { version: '2.0.0' }, 'httpie → nginx (TLS) → relay: /version')
  t.same((await http('POST', `${url}/health`, `Authorization:Bearer ${token}`)).data.status, 'ok', '/health: a real Qualys login and search')
  const docs = await execFile(paths.http as string, ['--ignore-stdin', '--verify', ca, '--follow', '--headers', 'GET', `${url}/docs`])
  t.match(docs.stdout, /^HTTP\/1\.1 200 OK/, '/docs')
  const observed = await execFile('bash', ['-c', `"${paths.http}" --verify "${ca}" POST "${url}/observe/observables" "Authorization:Bearer ${token}" < examples/observables.json`], { cwd: ROOT })
  const sightings = JSON.parse(observed.stdout).data.sightings.docs.map((d: { observables: Array<{ type: string }> }) => d.observables[0]?.type)
  t.same([...new Set(sightings)].sort(), ['domain', 'file_name', 'file_path', 'ip', 'ipv6', 'md5', 'mutex', 'sha256'], '/observe answered from the simulator, every type')

  // The public URL comes from nginx's X-Forwarded-Proto and -Host: a token addressed to it passes.
  const aud = (audience: string) => http('POST', `${url}/tiles`, `Authorization:Bearer ${hsToken({ ...DEMO, aud: audience })}`)
  t.notOk((await aud(`https://127.0.0.1:${https}`)).errors, 'aud = the public URL nginx forwards: accepted')
  t.same((await aud(`http://127.0.0.1:${https}`)).errors?.[0]?.message, 'Authorization failed: Wrong configuration-token-audience', 'http:// is not the public URL')
  const redirect = await request(`http://127.0.0.1:${plain}/version`, { method: 'POST' })
  await redirect.body.dump()
  t.same([redirect.statusCode, redirect.headers.location], [301, 'https://127.0.0.1/version'], 'plain HTTP: redirected to HTTPS, as nginx.conf says')

  const logs = (await p.logs('relay')) + (await p.logs('nginx'))
  t.ok(logs.includes('"url":"/observe/observables"'), 'the relay logged its requests')
  for (const secret of [SECRET_KEY, DEMO.pass, token, ...sim.calls.map((c) => c.token).filter((x): x is string => x !== undefined)]) {
    t.notOk(logs.includes(secret), `no secret in podman logs (${secret.slice(0, 6)}…)`)
  }

  await p.down()
  await net.remove()
  t.same(await p.leftovers(), [], 'down (and network rm) leaves no container, pod, network or volume')
}

withPrograms(t, [PROGRAMS.podman, PROGRAMS.runc, PROGRAMS.mmdebstrap, PROGRAMS.podmanCompose, PROGRAMS.netavark, PROGRAMS.iptables, PROGRAMS.ip, PROGRAMS.openssl, PROGRAMS.httpie],
  'deploy/compose.yaml and compose.replicas.yaml, as shipped, run by podman-compose', async (t, paths) => {
    registerSecret(SECRET_KEY)
    const images = await composeImages({ podman: paths.podman as string, mmdebstrap: paths.mmdebstrap as string }, path.join(ROOT, '.podman', `compose-${process.pid}`))
    t.teardown(images.remove)
    const { ca } = certificates(t, paths.openssl as string)
    await t.test('compose.yaml: the relay behind nginx, TLS, forwarded headers, down leaves nothing', (t: any) => single(t, images, paths, ca))
    await t.test('compose.replicas.yaml: three replicas, Redis with a password, a replica stopped under load', (t: any) =>
      replicasUnderLoad(t, images, paths, ca))
  }, { timeout: 1_500_000 })
