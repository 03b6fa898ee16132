// The bench's budget row: issue 28's over-subscribed hour on a compressed clock (a 60-second
// window stands for Qualys' hour), run against the release before budget priorities (built from
// git, BENCH_BUDGET_BEFORE) and against this build (dist/), with the same simulator settings.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createSigner } from 'fast-jwt'
import { startSimulator } from '../simulator/index.js'
import { freePort } from '../scripts/free-port.js'
import { runScenario, type Scenario, type ScenarioResult } from './budget-scenario.js'
import { relayUp } from './common.js'

const ROOT = path.resolve(import.meta.dirname, '..')
// The release the issue measured: calls first come, first served.
const BEFORE = process.env.BENCH_BUDGET_BEFORE ?? '256ed27'
const SECRET = 'bench-budget-secret-0123456789abcdef'

// The issue's numbers: 60 calls a window, 24 spent evenly by another consumer, 10 new
// observables every 10 s, the dashboard's 12 tiles every 5 s, /health every 20 s, 3 windows.
// Before: the tile cache TTL of 15 s the issue ran with; after: the defaults on the same clock
// (freshness 15 min / 1 h / 4 h → 15 / 60 / 240 s), and one health search per minute.
const ISSUE: Scenario = { windowSec: 60, windows: 3, otherPerWindow: 24, investigationEverySec: 10, observablesPerInvestigation: 10, dashboardEverySec: 5, healthEverySec: 20 }
const SMOKE: Scenario = { windowSec: 4, windows: 1, otherPerWindow: 4, investigationEverySec: 1, observablesPerInvestigation: 2, dashboardEverySec: 1, healthEverySec: 2 }
const LIMIT = 60

async function run (nodeArgs: string[], env: Record<string, string>, scenario: Scenario, limit: number): Promise<ScenarioResult> {
  const sim = await startSimulator({ latencyMs: 20, rateLimit: { limit, windowSec: scenario.windowSec } })
  const port = await freePort()
  let child: ChildProcess | undefined
  try {
    child = spawn(process.execPath, nodeArgs, {
      stdio: 'ignore',
      env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), SECRET_KEY: SECRET, API_URL: sim.url, LOG_LEVEL: 'warn', ...env }
    })
    await relayUp(`http://127.0.0.1:${port}`)
    return await runScenario(scenario, sim, [`http://127.0.0.1:${port}`], createSigner({ key: SECRET, algorithm: 'HS256' })({ user: 'demo', pass: 'demo-password' }))
  } finally {
    child?.kill('SIGKILL')
    await sim.close()
  }
}

// The release before, built beside this one (sharing its node_modules); undefined when git or
// that commit is not there (a tarball of the sources).
function buildBefore (): { server: string, remove: () => void } | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-before-'))
  try {
    execFileSync('git', ['worktree', 'add', '--detach', dir, BEFORE], { cwd: ROOT, stdio: 'ignore' })
  } catch {
    rmSync(dir, { recursive: true, force: true })
    return undefined
  }
  const remove = () => {
    try { execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' }) } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'))
  execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' })
  return { server: path.join(dir, 'dist/server.js'), remove }
}

export async function budgetRow (smoke: boolean) {
  const scenario = smoke ? SMOKE : ISSUE
  const limit = smoke ? 40 : LIMIT
  const scaled = (seconds: number) => String(Math.max(1, Math.round(seconds * scenario.windowSec / 3600)))
  // The smoke run (test/bench.test.ts) runs the relay from its sources.
  const server = smoke ? ['--import', 'tsx', path.join(ROOT, 'server.ts')] : [path.join(ROOT, 'dist/server.js')]
  const after = await run(server, {
    ...(smoke ? { FASTIFY_AUTOLOAD_TYPESCRIPT: '1' } : {}),
    TILE_FRESH_24H_S: scaled(900),
    TILE_FRESH_7D_S: scaled(3600),
    TILE_FRESH_30D_S: scaled(14400),
    HEALTH_CACHE_S: String(Math.min(60, scenario.windowSec)) // at most one health search a minute
  }, scenario, limit)
  if (smoke) return { scenario, limit, after }
  const before = existsSync(path.join(ROOT, '.git')) ? buildBefore() : undefined
  if (before === undefined) return { scenario, limit, after, before: { skipped: `commit ${BEFORE} not found` } }
  try {
    return { scenario, limit, after, before: await run([before.server], { TILE_CACHE_TTL_S: '15' }, scenario, limit), beforeRef: BEFORE }
  } finally {
    before.remove()
  }
}
