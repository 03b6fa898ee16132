import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './processes.js'

// The relay built as `npm run build` builds it (scripts/build.mjs), into a folder of this test
// process's own inside the project (so it finds node_modules), never into the dist/ that another
// test file may be building at the same time. Built once per process, removed at its exit.
let building: Promise<string> | undefined

export function builtRelay (): Promise<string> {
  building ??= (async () => {
    const dir = path.join(ROOT, '.test-build', String(process.pid))
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
    // The build runs the relay's modules (compile-schemas): no coverage from it.
    await promisify(execFile)(process.execPath, ['scripts/build.mjs', dir], { cwd: ROOT, env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' } })
    return dir
  })()
  return building
}
