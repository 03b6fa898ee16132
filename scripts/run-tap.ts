// The tap suite as `npm test` and CI run it: tap itself, then the coverage judged here, in one
// line at the end (tap alone ends a run below its thresholds with exit 1 and only a table).
//   tsx scripts/run-tap.ts [tap arguments…]
// How a run is judged: the thresholds of .taprc over the whole tree. A suite that needs a program
// outside npm skips when the program is missing and CI is unset (test/system.ts records it); the
// source files that only such a suite can reach (`reaches` in scripts/programs.ts: the Redis
// state's Redis module needs a real redis-server) are then left out of the totals, and the same
// thresholds hold over the rest. Under CI no suite skips, so nothing is left out.
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PROGRAMS, type Program } from './programs.js'

const ROOT = path.resolve(import.meta.dirname, '..')
export const SKIPPED_DIR = path.join(ROOT, '.tap', 'skipped')
const SUMMARY = path.join(ROOT, '.tap', 'report', 'coverage-summary.json')
export const RESULT = path.join(ROOT, '.tap', 'run.json')

export const METRICS = ['statements', 'branches', 'functions', 'lines'] as const
type Metric = typeof METRICS[number]
interface Count { total: number, covered: number }
export type FileSummary = Record<Metric, Count>
export interface Skipped { file: string, name: string, missing: string[] }

// The thresholds as .taprc states them (`statements: 90` …).
export function thresholds (taprc: string): Record<Metric, number> {
  const out = {} as Record<Metric, number>
  for (const metric of METRICS) {
    const m = new RegExp(`^${metric}:\\s*(\\d+(?:\\.\\d+)?)\\s*$`, 'm').exec(taprc)
    if (m === null) throw new Error(`.taprc states no ${metric} threshold`)
    out[metric] = Number(m[1])
  }
  return out
}

const pct = ({ total, covered }: Count) => total === 0 ? 100 : Math.floor((covered / total) * 10_000) / 100

// The verdict over the files of a json-summary report (keys: absolute paths), leaving out those
// that only a skipped suite's programs reach. One line says it, whichever way it goes.
export function judge (files: Record<string, FileSummary>, limits: Record<Metric, number>, skipped: Skipped[],
  programs: Program[] = Object.values(PROGRAMS), root = ROOT): { ok: boolean, line: string, leftOut: string[] } {
  const missing = new Set(skipped.flatMap((s) => s.missing))
  const unreached = new Set(programs.filter((p) => missing.has(p.name)).flatMap((p) => p.reaches ?? []))
  const totals = Object.fromEntries(METRICS.map((m) => [m, { total: 0, covered: 0 }])) as Record<Metric, Count>
  const leftOut: string[] = []
  for (const [file, summary] of Object.entries(files)) {
    if (file === 'total') continue
    const relative = path.relative(root, file).split(path.sep).join('/')
    if (unreached.has(relative)) {
      leftOut.push(relative)
      continue
    }
    for (const m of METRICS) {
      totals[m].total += summary[m].total
      totals[m].covered += summary[m].covered
    }
  }
  const below = METRICS.filter((m) => pct(totals[m]) < limits[m])
  const known = new Set(programs.map((p) => p.name)) // a test's own fixture of a made-up program is no suite
  const byFile = new Map<string, Set<string>>()
  for (const s of skipped.filter((s) => s.missing.some((m) => known.has(m)))) {
    for (const m of s.missing) (byFile.get(s.file) ?? byFile.set(s.file, new Set()).get(s.file) as Set<string>).add(m)
  }
  const suites = [...byFile].map(([file, missing]) => `${file} (${[...missing].join(', ')})`).sort()
  const context = [
    suites.length === 0 ? 'no suite skipped' : `skipped suites: ${suites.join(', ')}`,
    leftOut.length === 0 ? '' : `left out of the totals, reached only by those: ${leftOut.sort().join(', ')}`
  ].filter((part) => part !== '').join('; ')
  const line = below.length === 0
    ? `coverage ok: ${METRICS.map((m) => `${m} ${pct(totals[m])} %`).join(', ')} (thresholds in .taprc: ${METRICS.map((m) => limits[m]).join('/')}); ${context}`
    : `coverage below its threshold: ${below.map((m) => `${m} ${pct(totals[m])} % < ${limits[m]} %`).join(', ')} (.taprc); ${context}`
  return { ok: below.length === 0, line, leftOut }
}

export function readSkipped (dir = SKIPPED_DIR): Skipped[] {
  let names: string[]
  try { names = readdirSync(dir) } catch { return [] }
  return names.filter((n) => n.endsWith('.json')).map((n) => JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as Skipped)
}

// Test processes whose coverage cannot be merged with the rest: a child that tsx transpiled
// (esbuild's output differs from tap's loader's, so its source maps mark lines the in-process
// tests cover as uncovered). Spawn such children with _TAPJS_PROCESSINFO_COVERAGE_=0
// (test/helpers/processes.ts does).
export function foreignCoverage (root = ROOT): string[] {
  const out: string[] = []
  let ids: string[]
  try { ids = readdirSync(path.join(root, '.tap', 'coverage')).filter((n) => n.endsWith('.json')) } catch { return [] }
  for (const id of ids) {
    try {
      const info = JSON.parse(readFileSync(path.join(root, '.tap', 'processinfo', id), 'utf8')) as { argv: string[], execArgv: string[] }
      if ([...info.execArgv, ...info.argv].some((a) => /(^|[/=])tsx(\/|$)/.test(a))) out.push(info.argv.slice(1).map((a) => path.relative(root, a)).join(' '))
    } catch {}
  }
  return out
}

// The closing counts of tap's summary (`# { total: 9, pass: 8, skip: 1 }`), zeros when absent.
export function counts (output: string): { pass: number, fail: number, skip: number, todo: number } {
  const last = [...output.matchAll(/^# \{ total: \d+[^}]*\}$/gm)].at(-1)?.[0] ?? ''
  const n = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(last)?.[1] ?? 0)
  return { pass: n('pass'), fail: n('fail'), skip: n('skip'), todo: n('todo') }
}

async function main (args: string[]) {
  rmSync(SKIPPED_DIR, { recursive: true, force: true })
  mkdirSync(SKIPPED_DIR, { recursive: true })
  rmSync(SUMMARY, { force: true })
  const coverage = !args.includes('--disable-coverage')
  const tapArgs = coverage ? ['--allow-incomplete-coverage', '--coverage-report=text', '--coverage-report=json-summary', ...args] : args
  if (process.stdout.isTTY) tapArgs.unshift('--color')
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tap'), tapArgs, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env })
  let tail = ''
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    tail = (tail + chunk.toString('utf8')).slice(-200_000)
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
  const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s === null ? 1 : 128))))
  const skipped = readSkipped()
  const tally = counts(tail.replace(/\x1b\[[0-9;]*m/g, '')) // eslint-disable-line no-control-regex
  let verdict = { ok: true, line: 'coverage not measured (--disable-coverage)' }
  if (coverage) {
    let files: Record<string, FileSummary> | undefined
    try { files = JSON.parse(readFileSync(SUMMARY, 'utf8')) } catch {}
    const foreign = foreignCoverage()
    verdict = files === undefined
      ? { ok: false, line: 'coverage below its threshold: no coverage report was written (.tap/report/coverage-summary.json)' }
      : foreign.length > 0
        ? { ok: false, line: `coverage not judged: a child process that tsx ran recorded coverage (${foreign.join('; ')}): spawn it with _TAPJS_PROCESSINFO_COVERAGE_=0` }
        : judge(files, thresholds(readFileSync(path.join(ROOT, '.taprc'), 'utf8')), skipped)
  }
  writeFileSync(RESULT, JSON.stringify({ ...tally, tapExit: code, coverageOk: verdict.ok, coverage: verdict.line }))
  console.log(verdict.line)
  process.exit(code !== 0 ? code : verdict.ok ? 0 : 1)
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.join(ROOT, 'scripts', 'run-tap.ts')) {
  await main(process.argv.slice(2))
}
