#!/usr/bin/env node
// Runs a command on a supported Node.js line. Plain JavaScript that any Node.js still starts
// (20, 18…): it is the first thing `npm test` and `npm run demo` run, whatever Node the machine has.
//   node scripts/node-line.mjs <command…>            this Node if supported, else the active LTS
//   node scripts/node-line.mjs --line 22 <command…>  that line (CI runs the suite on every line)
// A line this machine does not have comes from the npm registry (the node-<os>-<arch> package,
// the official binary), unpacked once into .node/<line>/ and put first on PATH, so everything
// the command spawns (npm, tsx, tap's test processes, the built relay) runs on it too. It says
// so in one line; it never happens silently, and never for `npm start` (server.ts refuses).
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { constants } from 'node:os'
import path from 'node:path'

// The lines the relay supports (package.json engines, lib/node-lines.ts: test/node-lines.test.ts
// holds them together) and the one brought in when this machine's Node is not one of them.
export const FLOOR = { major: 22, minor: 19 }
export const LINES = [22, 24, 26]
export const ACTIVE_LTS = 26

export function supported (version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number)
  if (major === FLOOR.major) return minor >= FLOOR.minor
  return LINES.includes(major)
}

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..')

// The bin/ folder of Node.js `line` from npm, fetched if it is not in .node/<line>/ yet.
function fetchLine (line) {
  const dir = path.join(root, '.node', String(line))
  const bin = path.join(dir, 'package', 'bin')
  if (existsSync(path.join(bin, 'node'))) return bin
  const os = process.platform === 'win32' ? 'win' : process.platform
  const pkg = `node-${os}-${process.arch}@${line}`
  mkdirSync(path.join(root, '.node'), { recursive: true })
  const tmp = mkdtempSync(path.join(root, '.node', `.${line}-`))
  try {
    const file = execFileSync('npm', ['pack', pkg, '--pack-destination', tmp, '--silent'], { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').at(-1)
    execFileSync('tar', ['-xzf', path.join(tmp, file), '-C', tmp])
    rmSync(path.join(tmp, file))
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir) // whole or not at all: a second run at the same time finds it complete
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true })
    if (existsSync(path.join(bin, 'node'))) return bin // the other run won
    const detail = String(err.stderr ?? err.message).trim().split('\n')[0]
    throw new Error(`could not fetch ${pkg} from the npm registry (${detail}): install Node.js ${FLOOR.major}.${FLOOR.minor}+, 24 or 26 yourself`)
  }
  return bin
}

function main (argv) {
  let line
  if (argv[0] === '--line') {
    line = Number(argv[1])
    argv = argv.slice(2)
    if (!LINES.includes(line)) throw new Error(`--line: one of ${LINES.join(', ')}`)
  }
  if (argv.length === 0) throw new Error('usage: node scripts/node-line.mjs [--line <major>] <command…>')
  const here = process.versions.node
  const env = { ...process.env }
  const wanted = line ?? (supported(here) ? undefined : ACTIVE_LTS)
  if (wanted !== undefined && Number(here.split('.')[0]) !== wanted) {
    const bin = fetchLine(wanted)
    const version = execFileSync(path.join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim().slice(1)
    env.PATH = `${bin}${path.delimiter}${env.PATH ?? ''}`
    env.npm_node_execpath = path.join(bin, 'node') // npm run inside the command: this Node too
    env.NODE = path.join(bin, 'node')
    const why = line === undefined ? `this machine has ${here}, which is not supported` : `this machine has ${here}`
    console.error(`using Node.js ${version} from npm: ${why}`)
  }
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env, shell: process.platform === 'win32' })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
  child.on('error', (err) => { console.error(`${argv[0]}: ${err.message}`); process.exit(127) })
  child.on('exit', (code, signal) => { process.exit(code ?? 128 + (constants.signals[signal] ?? 0)) })
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.join(root, 'scripts', 'node-line.mjs')) {
  try {
    main(process.argv.slice(2))
  } catch (err) {
    console.error(`node-line: ${err.message}`)
    process.exit(1)
  }
}
