import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { findPrograms, PROGRAMS, which, type Program } from '../scripts/programs.js'
import { SKIPPED_DIR } from '../scripts/run-tap.js'

export { PROGRAMS, which, type Program }

export const underCi = (env = process.env) => env.CI !== undefined && !['', '0', 'false'].includes(env.CI.toLowerCase())

interface Tap {
  test: (name: string, ...args: any[]) => unknown
}

export type Paths = Record<string, string>

// Runs `fn` as a subtest when every program is on PATH, with their absolute paths by command.
// One is missing: with CI unset the subtest is skipped, and its one line says what to install;
// under CI the subtest fails, so CI can never pass by skipping.
export function withPrograms (t: Tap, programs: Program[], name: string, fn: (t: any, paths: Paths) => Promise<void>, opts: { timeout?: number } = {}) {
  const { paths, missing: line } = findPrograms(programs)
  if (line === undefined) return t.test(name, opts, (tt: any) => fn(tt, paths))
  if (underCi()) {
    return t.test(name, async (tt: any) => {
      tt.fail(`${line} (CI is set: suites that need it must run, not skip)`)
    })
  }
  record(name, programs.filter((p) => paths[p.command] === undefined))
  return t.test(name, { skip: `skipped: ${line}` }, async () => {})
}

// What scripts/run-tap.ts reads to judge the coverage of a run with skipped suites: which suite
// skipped for which programs (one small file per skip, so parallel test processes never race).
function record (name: string, missing: Program[]) {
  const file = path.relative(path.resolve(import.meta.dirname, '..'), path.resolve(process.argv[1] ?? 'unknown')).split(path.sep).join('/')
  try {
    mkdirSync(SKIPPED_DIR, { recursive: true })
    writeFileSync(path.join(SKIPPED_DIR, `${process.pid}-${Math.random().toString(36).slice(2)}.json`), JSON.stringify({ file, name, missing: missing.map((p) => p.name) }))
  } catch {} // a read-only checkout: the skip line still says it
}
