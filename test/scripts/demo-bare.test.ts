import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ROOT } from '../helper.js'

// The README's first command as a newcomer runs it, with no program beside Node.js and npm (no
// httpie: this test is its own client): `npm run demo` starts the simulator and the relay, and
// its printed URL and JWT answer /version and an observe request. Runs in every pass, the CI's
// fresh-machine pass included.
t.test('npm run demo on a bare machine: the printed URL answers /version and an observe with the printed JWT', async (t) => {
  const child = spawn('npm', ['run', '--silent', 'demo'], {
    cwd: ROOT,
    detached: true, // its own process group: npm, node-line, tsx and the demo stop together
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', DEMO_QUALYS_PORT: '0', LOG_LEVEL: 'warn', _TAPJS_PROCESSINFO_COVERAGE_: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d) => { out += String(d) })
  child.stderr.on('data', (d) => { out += String(d) })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const stop = (signal: NodeJS.Signals) => { try { process.kill(-(child.pid as number), signal) } catch {} }
  t.teardown(() => stop('SIGKILL'))

  const printed = async (pattern: RegExp) => {
    for (const started = Date.now(); Date.now() - started < 120_000; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const m = pattern.exec(out)
      if (m?.[1] !== undefined) return m[1]
      if (child.exitCode !== null) break
    }
    throw new Error(`npm run demo printed no ${pattern}:\n${out}`)
  }
  const url = await printed(/^URL=(\S+)$/m)
  const jwt = await printed(/^JWT=(\S+)$/m)
  t.match(out, /DEMO MODE/, 'it says it is the demo')

  const version = await fetch(`${url}/version`, { method: 'POST' })
  const { version: expected } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
  t.same(await version.json(), { version: expected }, '/version answers the release')

  const res = await fetch(`${url}/observe/observables`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: readFileSync(path.join(ROOT, 'examples/observables.json'))
  })
  t.equal(res.status, 200)
  const body = await res.json() as { errors?: unknown, data: { sightings: { count: number }, judgements: { count: number } } }
  t.equal(body.errors, undefined, 'no errors')
  t.ok(body.data.sightings.count > 0 && body.data.judgements.count > 0, `sightings (${body.data.sightings.count}) and judgements (${body.data.judgements.count}) for the example observables`)

  stop('SIGINT')
  const late = new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000).unref())
  t.not(await Promise.race([exited, late]), 'still running', 'Ctrl-C stops it')
})
