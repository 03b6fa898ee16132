import { execFile as execFileCb, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Agent, request } from 'undici'
import { IMAGES, type Podman } from '../../scripts/container-image.js'
import { startSimulator, type Simulator } from '../../simulator/index.js'
import { ROOT } from './processes.js'
import { DEMO, EVE } from './tokens.js'

const execFile = promisify(execFileCb)
const DEPLOY = path.join(ROOT, 'deploy')

// A test CA and, at the path deploy/nginx.conf names (deploy/certs/relay.example.com.pem and
// .key), a certificate it signed for relay.example.com, localhost and 127.0.0.1. Whatever was
// there before is put back at teardown.
export function certificates (t: { teardown: (fn: () => unknown) => void }, openssl: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-ca-'))
  const certs = path.join(DEPLOY, 'certs')
  const saved = existsSync(certs) ? `${certs}.saved-${process.pid}` : undefined
  if (saved !== undefined) renameSync(certs, saved)
  mkdirSync(certs)
  t.teardown(() => {
    rmSync(certs, { recursive: true, force: true })
    if (saved !== undefined) renameSync(saved, certs)
    rmSync(dir, { recursive: true, force: true })
  })
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'ignore' })
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:relay.example.com,DNS:localhost,IP:127.0.0.1\n')
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=relay test CA', '-keyout', 'ca.key', '-out', 'ca.pem')
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=relay.example.com', '-keyout', path.join(certs, 'relay.example.com.key'), '-out', 'relay.csr')
  run('x509', '-req', '-in', 'relay.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
    '-extfile', 'san.ext', '-out', path.join(certs, 'relay.example.com.pem'))
  return { ca: path.join(dir, 'ca.pem') }
}

// Pins a podman network's bridge to the MAC address it has now (docs/deploy.md's command for podman
// 4.3 with netavark 1.4): set explicitly, the kernel keeps it when the container whose link lent
// it leaves. Returns the address.
export async function pinBridgeMac (images: Podman, network: string, ip: string): Promise<string> {
  const bridge = (await images.podman('network', 'inspect', network, '--format', '{{.NetworkInterface}}')).trim()
  const mac = readFileSync(`/sys/class/net/${bridge}/address`, 'utf8').trim()
  await execFile(ip, ['link', 'set', 'dev', bridge, 'address', mac])
  const assigned = readFileSync(`/sys/class/net/${bridge}/addr_assign_type`, 'utf8').trim()
  if (assigned !== '3') throw new Error(`${bridge}: its MAC address is not pinned (addr_assign_type ${assigned})`)
  return mac
}

// A project's network, made before `up` (with a container on it, so that the host's side of the
// bridge exists) so that the simulator can listen on its gateway; podman-compose uses it as its
// own. Its bridge's MAC address is pinned, as docs/deploy.md tells podman 4.3 users to do: unpinned,
// the bridge takes the lowest MAC of its containers' links, and when that container goes (a
// replica stopped, a `podman run --rm` on the network) the others lose the gateway — the
// simulator here, Qualys and the DNS in production — until their ARP entry expires (up to about
// 30 s). `remove` (after `down`) takes the holder and the network away: podman-compose 1.0.3
// leaves the network, hence docs/deploy.md's `podman network rm`.
export async function projectNetwork (images: Podman, name: string, ip: string) {
  await images.podman('network', 'create', name)
  const holder = `${name}-holder`
  await images.podman('run', '--detach', '--name', holder, '--network', name, IMAGES.redis, 'sleep', 'infinity')
  const gateway = (await images.podman('network', 'inspect', name, '--format', '{{range .Subnets}}{{.Gateway}}{{end}}')).trim()
  await pinBridgeMac(images, name, ip)
  return {
    gateway,
    remove: async () => {
      await images.podman('rm', '--force', '--volumes', '--time', '0', holder)
      await images.podman('network', 'rm', name)
    }
  }
}

// The simulator, in this process, listening on a project network's gateway (which the
// containers reach), for DEMO and EVE.
export async function simulatorOn (t: { teardown: (fn: () => unknown) => void }, gateway: string): Promise<Simulator> {
  const sim = await startSimulator({ host: gateway, accounts: { [DEMO.user]: DEMO.pass, [EVE.user]: EVE.pass }, latencyMs: 20 })
  t.teardown(() => sim.close())
  return sim
}

// One compose project of deploy/ run by podman-compose, as an operator runs it.
export function project (images: Podman, podmanCompose: string, name: string, file: string, env: Record<string, string>) {
  const compose = async (...args: string[]) =>
    (await execFile(podmanCompose, ['-p', name, '-f', file, ...args], { cwd: DEPLOY, env: { ...images.env, ...env }, maxBuffer: 64 << 20 })).stdout
  const network = `${name}_default`
  const container = (service: string) => `${name}_${service}_1`
  // The relays' stop_grace_period in seconds, as the file says (docker compose honours it;
  // podman-compose 1.0.3 does not, so `podman stop --time` and `down -t` are given it, as the
  // file's comment and docs/deploy.md tell podman users to do).
  const match = /stop_grace_period: (\d+)s/.exec(readFileSync(path.join(DEPLOY, file), 'utf8'))
  const stopGrace = match === null ? 10 : Number(match[1])
  return {
    compose,
    network,
    container,
    stopGrace,
    stop: (service: string) => images.podman('stop', '--time', String(stopGrace), container(service)),
    down: () => compose('down', '-t', String(stopGrace)),
    // Everything of the project: containers and pods (by label), its network, any volume.
    async leftovers (): Promise<string[]> {
      const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
      const label = `label=io.podman.compose.project=${name}`
      return [
        ...lines(await images.podman('ps', '--all', '--filter', label, '--format', 'container {{.Names}}')),
        ...lines(await images.podman('pod', 'ps', '--filter', label, '--format', 'pod {{.Name}}')),
        ...lines(await images.podman('network', 'ls', '--format', '{{.Name}}')).filter((n) => n === network).map((n) => `network ${n}`),
        ...lines(await images.podman('volume', 'ls', '--format', 'volume {{.Name}}'))
      ]
    },
    // What the service wrote, on its standard output and error both.
    logs: async (service: string) => {
      const { stdout, stderr } = await images.output('logs', container(service))
      return stdout + stderr
    }
  }
}

// Until the relay answers /version through nginx over HTTPS (~3 minutes at most: the first run
// builds the image).
export async function untilServing (url: string, dispatcher: Agent) {
  for (const giveUp = Date.now() + 180_000; Date.now() < giveUp;) {
    const ok = await request(`${url}/version`, { method: 'POST', dispatcher }).then(async (r) => { await r.body.dump(); return r.statusCode === 200 }, () => false)
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(`${url} never answered /version`)
}

export const caAgent = (ca: string) => new Agent({ connect: { ca: readFileSync(ca) }, connections: 32 })
