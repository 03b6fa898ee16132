// npm run bench:compare -- <git ref> [<node binary for it>]: the bench's core rows (Qualys calls,
// latency, start-up, RSS, the relay's own CPU per answer) for an earlier commit and for this
// working tree, measured in one run on one machine: the earlier commit checked out beside this
// one (git worktree, its own `npm ci` and build), each side on its own Node.js (the earlier one on
// the binary given, default this one), both against the same simulator, runs interleaved.
// Writes bench/results/compare-<date>.{json,md}. What a refactoring or an upgrade must not change.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { createSigner } from 'fast-jwt'
import { request } from 'undici'
import { startSimulator, type Simulator } from '../simulator/index.js'
import { loadFixtures } from '../simulator/fixtures/index.js'
import { benchFixtures, observables } from './fixtures.js'
import { freePort } from '../scripts/free-port.js'
import { median, percentile, relayUp } from './common.js'

const ROOT = path.resolve(import.meta.dirname, '..')
const [ref, beforeNode = process.execPath] = process.argv.slice(2)
if (ref === undefined) throw new Error('usage: npm run bench:compare -- <git ref> [<node binary for it>]')
const RUNS = Number(process.env.COMPARE_RUNS ?? 5) // interleaved rounds; medians over them
const SAMPLES = 21 // sequential requests per latency row and round
const SECRET = 'bench-compare-secret-0123456789abcdef'
const JWT = createSigner({ key: SECRET, algorithm: 'HS256' })({ user: 'demo', pass: 'demo-password' })
const headers = { authorization: `Bearer ${JWT}`, 'content-type': 'application/json' }
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10
}

interface Side { name: string, node: string, dir: string, version: string }

function checkout (): { side: Side, remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-compare-'))
  execFileSync('git', ['worktree', 'add', '--detach', dir, ref as string], { cwd: ROOT, stdio: 'ignore' })
  const remove = () => {
    try { execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' }) } catch {}
    rmSync(dir, { recursive: true, force: true })
  }
  const binPath = `${path.dirname(beforeNode)}${path.delimiter}${process.env.PATH}`
  const env = { ...process.env, PATH: binPath }
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, stdio: 'ignore', env })
  execFileSync(beforeNode, ['scripts/build.mjs'], { cwd: dir, stdio: 'ignore', env })
  const commit = execFileSync('git', ['rev-parse', '--short', ref as string], { cwd: ROOT, encoding: 'utf8' }).trim()
  const version = execFileSync(beforeNode, ['--version'], { encoding: 'utf8' }).trim()
  return { side: { name: `before (${commit})`, node: beforeNode, dir, version }, remove }
}

const children: ChildProcess[] = []
async function startRelay (side: Side, qualys: Simulator, env: Record<string, string> = {}) {
  const port = await freePort()
  const child = spawn(side.node, ['dist/server.js'], {
    cwd: side.dir,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), SECRET_KEY: SECRET, API_URL: qualys.url, LOG_LEVEL: 'warn', ...env }
  })
  children.push(child)
  const started = performance.now()
  const url = `http://127.0.0.1:${port}`
  await relayUp(url)
  return { url, pid: child.pid as number, readyMs: performance.now() - started, stop: () => child.kill('SIGKILL') }
}

async function post (url: string, body: unknown): Promise<number> {
  const started = performance.now()
  const res = await request(`${url}/observe/observables`, { method: 'POST', headers, body: JSON.stringify(body) })
  const json = await res.body.json() as { errors?: unknown }
  if (res.statusCode !== 200 || json.errors !== undefined) throw new Error(`request failed: ${JSON.stringify(json)}`)
  return performance.now() - started
}

type Row = Record<string, number>
async function round (side: Side, sim: Simulator, instant: Simulator): Promise<Row> {
  const row: Row = {}
  // start-up: spawn → first answer of /version, RSS 2 s later (no Qualys call)
  const idle = await startRelay(side, sim)
  await new Promise((resolve) => setTimeout(resolve, 2000))
  row['ready ms'] = idle.readyMs
  row['idle RSS MB'] = rssMb(idle.pid)
  idle.stop()
  // latency and Qualys calls per request, lookup cache off, token warm
  const cold = await startRelay(side, sim, { LOOKUP_CACHE_TTL_S: '0' })
  await post(cold.url, observables('sha256', 1))
  for (const [series, n] of [['sha256', 1], ['sha256', 10], ['sha256', 50], ['mixed', 49]] as const) {
    const before = sim.counters.events
    const times: number[] = []
    for (let i = 0; i < SAMPLES; i++) times.push(await post(cold.url, observables(series, n)))
    row[`${series} ${n}: median ms`] = median(times)
    row[`${series} ${n}: p99 ms`] = percentile(times, 0.99)
    row[`${series} ${n}: Qualys calls`] = (sim.counters.events - before) / SAMPLES
  }
  const logins = sim.counters.logins
  await post(cold.url, observables('sha256', 1))
  row['logins per warm request'] = sim.counters.logins - logins
  cold.stop()
  // the relay's own CPU per answer: Qualys answers at once, 50 sha256 finding 100 events
  const cpu = await startRelay(side, instant, { LOOKUP_CACHE_TTL_S: '0' })
  for (let i = 0; i < 20; i++) await post(cpu.url, observables('sha256', 50))
  const cpuBefore = cpuMs(cpu.pid)
  for (let i = 0; i < 100; i++) await post(cpu.url, observables('sha256', 50))
  row['relay CPU ms / answer'] = (cpuMs(cpu.pid) - cpuBefore) / 100
  cpu.stop()
  // RSS after 20,000 answers from the lookup cache (64 connections)
  const warm = await startRelay(side, sim)
  await post(warm.url, observables('sha256', 1))
  const r = await autocannon({ url: `${warm.url}/observe/observables`, method: 'POST', headers, body: JSON.stringify(observables('sha256', 1)), connections: 64, amount: 20_000 })
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`load: ${r.errors} errors, ${r.non2xx} non-2xx`)
  row['cached req/s'] = r.requests.average
  row['RSS MB after 20,000'] = rssMb(warm.pid)
  warm.stop()
  return row
}

const fixtures = benchFixtures(loadFixtures())
const sim = await startSimulator({ latencyMs: 50, fixtures })
const instant = await startSimulator({ latencyMs: 0, fixtures })
const before = checkout()
const after: Side = { name: 'this tree', node: process.execPath, dir: ROOT, version: process.version }
try {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'ignore' })
  const rounds: Record<string, Row[]> = { before: [], after: [] }
  for (let i = 0; i < RUNS; i++) {
    rounds.before?.push(await round(before.side, sim, instant))
    rounds.after?.push(await round(after, sim, instant))
  }
  const med = (rows: Row[], key: string) => median(rows.map((r) => r[key] as number))
  const keys = Object.keys(rounds.before?.[0] ?? {})
  const table = keys.map((k) => {
    const b = med(rounds.before as Row[], k)
    const a = med(rounds.after as Row[], k)
    return { row: k, before: b, after: a, ratio: b === 0 ? (a === 0 ? 1 : Infinity) : a / b }
  })
  const date = new Date().toISOString().slice(0, 16).replace(':', '-')
  const cpus = os.cpus()
  const fmt = (x: number) => Number.isInteger(x) ? String(x) : x.toFixed(x < 10 ? 2 : 1)
  const md = [
    `# Before and after — ${date}`, '',
    `Machine: ${cpus.length} × ${cpus[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB. ` +
    `${before.side.name} on Node ${before.side.version}; ${after.name} on Node ${after.version}. Simulated Qualys latency 50 ms. ` +
    `Medians of ${RUNS} interleaved rounds (latency: ${SAMPLES} sequential requests per row and round; lookup cache off; CPU: 100 answers of 50 sha256, Qualys instant).`, '',
    '| row | before | after | after ÷ before |', '|---|---:|---:|---:|',
    ...table.map((r) => `| ${r.row} | ${fmt(r.before)} | ${fmt(r.after)} | ${r.ratio.toFixed(2)} |`), ''
  ].join('\n')
  const out = process.env.BENCH_OUT ?? path.join(ROOT, 'bench/results')
  mkdirSync(out, { recursive: true })
  writeFileSync(path.join(out, `compare-${date}.json`), JSON.stringify({ date, before: { ...before.side, dir: undefined }, after: { ...after, dir: undefined }, runs: RUNS, rounds, table }, null, 2) + '\n')
  writeFileSync(path.join(out, `compare-${date}.md`), md)
  console.log(md)
  console.log(`written: ${path.join(out, `compare-${date}`)}.{json,md}`)
} finally {
  for (const child of children) child.kill('SIGKILL')
  before.remove()
  await sim.close()
  await instant.close()
}
