// The supported Node.js lines: package.json's engines, lib/node-lines.ts (server.ts refuses any
// other) and scripts/node-line.mjs (which brings one from npm) say the same; a machine whose Node
// is older gets a supported one for `npm test` and `npm run demo`, said in one line, and `npm start`
// refuses it. The old Node is played by the running one with process.versions.node rewritten
// before anything loads, and, where this machine has one on its PATH (Debian 12's is 20), by that.
import { execFile as execFileCb } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { NODE_FLOOR, NODE_LINES, nodeSupported } from '../lib/node-lines.js'
import { ROOT } from './helper.js'

const execFile = promisify(execFileCb)
const wrapper = path.join(ROOT, 'scripts/node-line.mjs')
const pretend = (version: string) =>
  `--import=data:text/javascript,Object.defineProperty(process,'versions',{value:{...process.versions,node:'${version}'}})`

t.test('engines, lib/node-lines.ts and scripts/node-line.mjs name the same lines', async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  t.equal(pkg.engines.node, '^22.19.0 || ^24.0.0 || ^26.0.0')
  t.same([...NODE_LINES], [22, 24, 26])
  t.same(NODE_FLOOR, { major: 22, minor: 19 })
  const mjs = await import(wrapper) as { LINES: number[], FLOOR: unknown, ACTIVE_LTS: number, supported: (v: string) => boolean }
  t.same(mjs.LINES, [...NODE_LINES])
  t.same(mjs.FLOOR, NODE_FLOOR)
  t.equal(mjs.ACTIVE_LTS, 26)
  for (const [version, ok] of [['20.20.2', false], ['v20.19.0', false], ['21.7.3', false], ['22.18.9', false], ['22.19.0', true], ['22.23.5', true],
    ['23.11.0', false], ['24.0.0', true], ['25.2.1', false], ['26.12.1', true], ['27.0.0', false]] as const) {
    t.equal(nodeSupported(version), ok, `lib: ${version}`)
    t.equal(mjs.supported(version), ok, `node-line.mjs: ${version}`)
  }
  t.ok(nodeSupported(process.versions.node), `the suite itself runs on a supported line (${process.versions.node})`)
})

t.test('on an old Node, the wrapper brings the active LTS from npm and says so in one line', async (t) => {
  const { stdout, stderr } = await execFile(process.execPath, [pretend('20.20.2'), wrapper, 'node', '-p', 'process.versions.node'], { cwd: ROOT, timeout: 180_000 })
  t.match(stdout.trim(), /^26\.\d+\.\d+$/)
  t.equal(stderr.trim().split('\n').length, 1, 'one line')
  t.match(stderr.trim(), /^using Node\.js 26\.\d+\.\d+ from npm: this machine has 20\.20\.2, which is not supported$/)
})

t.test('on a supported Node, the wrapper runs the command as it is, silently, and passes its exit code on', async (t) => {
  const { stdout, stderr } = await execFile(process.execPath, [wrapper, 'node', '-p', 'process.execPath'], { cwd: ROOT })
  t.equal(stdout.trim(), process.execPath)
  t.equal(stderr, '')
  const failed = await execFile(process.execPath, [wrapper, 'node', '-e', 'process.exit(3)'], { cwd: ROOT }).catch((err: { code: number }) => err)
  t.equal((failed as { code: number }).code, 3)
  const refused = await execFile(process.execPath, [wrapper, '--line', '20', 'node'], { cwd: ROOT }).catch((err: { code: number, stderr: string }) => err)
  t.match(refused, { code: 1, stderr: /^node-line: --line: one of 22, 24, 26\n$/ })
})

// Debian 12's own Node (20) where this runs on this project's machines; none elsewhere.
async function oldNodeOnPath () {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '' && !d.startsWith(path.join(ROOT, '.node')))
  for (const dir of dirs) {
    const bin = path.join(dir, 'node')
    const version = await execFile(bin, ['-p', 'process.versions.node']).then((r) => r.stdout.trim(), () => undefined)
    if (version !== undefined && !nodeSupported(version)) return { bin, version }
  }
  return undefined
}
const old = await oldNodeOnPath()

t.test('the machine\'s own old Node.js runs the wrapper the same way', { skip: old === undefined ? 'no unsupported Node.js on this machine\'s PATH (the played one above ran)' : false }, async (t) => {
  const { bin, version } = old as { bin: string, version: string }
  const { stdout, stderr } = await execFile(bin, [wrapper, 'node', '-p', 'process.versions.node'], { cwd: ROOT, timeout: 180_000 })
  t.match(stdout.trim(), /^26\./)
  t.equal(stderr.trim(), `using Node.js ${stdout.trim()} from npm: this machine has ${version}, which is not supported`)
})

t.test('npm start (server.ts) refuses an unsupported Node.js with one line, before loading anything', async (t) => {
  const failed = await execFile(process.execPath, [pretend('20.20.2'), '--import', 'tsx', 'server.ts'], {
    cwd: ROOT, env: { PATH: process.env.PATH, _TAPJS_PROCESSINFO_COVERAGE_: '0', SECRET_KEY: 'x'.repeat(32), API_URL: 'https://gateway.qg2.apps.qualys.com' }, timeout: 30_000
  }).catch((err: { code: number, stdout: string, stderr: string }) => err)
  t.match(failed, { code: 1, stdout: '' })
  t.equal((failed as { stderr: string }).stderr, 'qualys-ioc-relay: Node.js 20.20.2 is not supported: run it on Node.js 22.19+, 24 or 26\n')
})
