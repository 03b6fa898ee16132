// The container image's start: `podman run` → its HEALTHCHECK passes, and → the first answer of
// /watchdog, for the image the Containerfile builds (scripts/container-image.ts), medians of
// `runs` starts. Needs podman, runc and mmdebstrap; without them the row says what to install.
import path from 'node:path'
import { buildRelayImage, startToHealthy } from '../scripts/container-image.js'
import { freePort } from '../scripts/free-port.js'
import { findPrograms, PROGRAMS } from '../scripts/programs.js'
import { median } from './common.js'

export type ContainerRow =
  | { runs: number, healthyMs: number, answerMs: number, addedMb: number }
  | { skipped: string }

export async function containerStart (runs: number): Promise<ContainerRow> {
  const { paths, missing } = findPrograms([PROGRAMS.podman, PROGRAMS.runc, PROGRAMS.mmdebstrap, PROGRAMS.netavark])
  if (missing !== undefined) return { skipped: missing }
  const root = path.join(import.meta.dirname, '..')
  const img = await buildRelayImage({ podman: paths.podman as string, mmdebstrap: paths.mmdebstrap as string }, root, path.join(root, '.podman', `bench-${process.pid}`))
  try {
    const samples: Array<{ healthyMs: number, answerMs: number }> = []
    for (let i = 0; i < runs; i++) {
      const name = `qualys-ioc-relay-bench-${process.pid}-${i}`
      const env = { PORT: String(await freePort()), HOST: '127.0.0.1', SECRET_KEY: 'bench-secret-0123456789abcdef0123', API_URL: 'https://gateway.qg2.apps.qualys.com' }
      const { healthyMs, answerMs } = await startToHealthy(img, name, env)
      await img.podman('rm', '--force', name)
      if (healthyMs === undefined || answerMs === undefined) throw new Error(`the container did not become healthy within 60 s (run ${i + 1})`)
      samples.push({ healthyMs, answerMs })
    }
    return { runs, healthyMs: median(samples.map((s) => s.healthyMs)), answerMs: median(samples.map((s) => s.answerMs)), addedMb: img.addedMb }
  } finally {
    await img.remove()
  }
}
