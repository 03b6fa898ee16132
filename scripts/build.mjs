// npm run build: the relay compiled to plain JavaScript in dist/ (or the folder given), with every
// route's schemas compiled ahead (scripts/compile-schemas.ts) and the demo's fixtures beside the
// simulator. Plain JavaScript itself, so that it runs before anything is compiled. Tests build
// into a folder of their own with it, never into the dist/ another test may be running.
//   node scripts/build.mjs [out-dir]
import { execFileSync } from 'node:child_process'
import { copyFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const out = path.resolve(process.argv[2] ?? path.join(root, 'dist'))
const run = (...args) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' })

rmSync(out, { recursive: true, force: true })
run(createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out)
run(path.join(out, 'scripts/compile-schemas.js'))
copyFileSync(path.join(root, 'simulator/fixtures/events.json'), path.join(out, 'simulator/fixtures/events.json'))
