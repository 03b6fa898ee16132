import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

interface Tap { teardown: (fn: () => unknown) => void }

export interface Spawned {
  child: ChildProcess
  output: () => string
  waitFor: (pattern: RegExp, ms?: number) => Promise<RegExpExecArray>
  exited: Promise<number | null>
}

// Starts a TypeScript entry point (demo, token, server) as a real process, with tsx.
export function spawnTs (t: Tap, script: string, env: Record<string, string | undefined>, args: string[] = []): Spawned {
  return spawnNode(t, ['--import', 'tsx', script, ...args], { FASTIFY_AUTOLOAD_TYPESCRIPT: '1', ...env })
}

// Starts node with these arguments in the project's folder (e.g. the built relay, dist/server.js),
// its output collected; killed at teardown if still running.
export function spawnNode (t: Tap, nodeArgs: string[], env: Record<string, string | undefined>): Spawned {
  // No coverage from children: tsx transforms the sources differently from tap's loader, and the
  // mismatched maps would mark lines the in-process tests cover as uncovered.
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, _TAPJS_PROCESSINFO_COVERAGE_: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d) => { out += String(d) })
  child.stderr?.on('data', (d) => { out += String(d) })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, ms = 20000) => new Promise((resolve, reject) => {
      const started = Date.now()
      const check = () => {
        const m = pattern.exec(out)
        if (m !== null) return resolve(m)
        if (child.exitCode !== null || Date.now() - started > ms) return reject(new Error(`no ${pattern} in:\n${out}`))
        setTimeout(check, 50)
      }
      check()
    })
  }
}

export const ROOT = path.resolve(import.meta.dirname, '../..')
