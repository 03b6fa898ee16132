// Start-up cost: spawn → first answer to POST /version, and RSS 2 s after it, for the built relay
// (`node dist/server.js`, no REDIS_URL, no METRICS_PORT) next to the design floor and bare Fastify
// (bench/floor.mjs). Interleaved runs, medians.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { request } from 'undici'
import { freePort } from '../scripts/free-port.js'
import { median } from './common.js'

const ROOT = path.join(import.meta.dirname, '..')
export const STARTERS = {
  relay: { args: ['dist/server.js'], env: { SECRET_KEY: 'bench-secret-0123456789abcdef0123', API_URL: 'https://gateway.qg2.apps.qualys.com', NODE_ENV: 'production', LOG_LEVEL: 'warn' } },
  'design floor': { args: ['bench/floor.mjs'], env: { BENCH_FLOOR: 'design' } },
  'bare Fastify': { args: ['bench/floor.mjs'], env: { BENCH_FLOOR: 'bare' } }
} as const

async function once (args: readonly string[], env: Record<string, string>): Promise<{ readyMs: number, rssMb: number }> {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(process.execPath, [...args], { cwd: ROOT, stdio: 'ignore', env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...env } })
  try {
    for (let i = 0; ; i++) {
      try {
        const res = await request(`http://127.0.0.1:${port}/version`, { method: 'POST' })
        await res.body.dump()
        if (res.statusCode === 200) break
      } catch (err) {
        if (i > 4000) throw err
      }
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const readyMs = performance.now() - started
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024
    return { readyMs, rssMb }
  } finally {
    child.kill('SIGKILL')
  }
}

// `smoke`: the relay from its sources (no dist/ needed), for the test that keeps the bench alive.
export async function startup (runs: number, smoke = false) {
  const samples: Record<string, Array<{ readyMs: number, rssMb: number }>> = {}
  for (let i = 0; i < runs; i++) {
    for (const [name, s] of Object.entries(STARTERS)) {
      const args = smoke && name === 'relay' ? ['--import', 'tsx', 'server.ts'] : s.args
      const env = smoke && name === 'relay' ? { ...s.env, FASTIFY_AUTOLOAD_TYPESCRIPT: '1' } : s.env
      ;(samples[name] ??= []).push(await once(args, env))
    }
  }
  const rows = Object.fromEntries(Object.entries(samples).map(([name, xs]) =>
    [name, { readyMs: median(xs.map((x) => x.readyMs)), rssMb: median(xs.map((x) => x.rssMb)) }]))
  const relay = rows.relay as { readyMs: number, rssMb: number }
  const floor = rows['design floor'] as { readyMs: number, rssMb: number }
  return { runs, rows, readyRatio: relay.readyMs / floor.readyMs, rssRatio: relay.rssMb / floor.rssMb }
}
