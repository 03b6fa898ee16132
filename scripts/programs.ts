import { accessSync, constants } from 'node:fs'
import path from 'node:path'

// Programs outside npm that some suites drive. None of them ships in a registry package that
// works offline (each would download its binary at install time), so they come from Debian.
// dir: looked up there when not on PATH. reaches: source files that only the suites needing this
// program can run (scripts/run-tap.ts leaves them out of the coverage totals when those suites
// skipped); everything that can be tested without the program is, so the list stays short.
export interface Program { name: string, command: string, install: string, dir?: string, reaches?: string[] }

export const PROGRAMS = {
  httpie: { name: 'httpie', command: 'http', install: 'apt-get install httpie' },
  nginx: { name: 'nginx', command: 'nginx', install: 'apt-get install nginx' },
  openssl: { name: 'openssl', command: 'openssl', install: 'apt-get install openssl' },
  chromium: { name: 'chromium', command: 'chromium', install: 'apt-get install chromium' },
  // The Redis state's Redis side: ioredis commands, Lua scripts and redis-semaphore's locks that
  // only a real Redis answers (its sealing, key layout and lease bookkeeping are tested without one).
  redis: {
    name: 'redis-server',
    command: 'redis-server',
    install: 'apt-get install redis-server',
    reaches: ['plugins/app/state/redis.ts', 'plugins/app/state/redis-budget.ts']
  },
  podman: { name: 'podman', command: 'podman', install: 'apt-get install podman' },
  runc: { name: 'runc', command: 'runc', install: 'apt-get install runc' },
  mmdebstrap: { name: 'mmdebstrap', command: 'mmdebstrap', install: 'apt-get install mmdebstrap' },
  tinyproxy: { name: 'tinyproxy', command: 'tinyproxy', install: 'apt-get install tinyproxy' }, // an egress proxy
  promtool: { name: 'promtool', command: 'promtool', install: 'apt-get install prometheus' }, // checks and tests the alert rules
  podmanCompose: { name: 'podman-compose', command: 'podman-compose', install: 'apt-get install podman-compose' },
  // podman's network backend for compose projects: services reach each other by name (aardvark-dns).
  netavark: { name: 'netavark', command: 'netavark', install: 'apt-get install netavark aardvark-dns', dir: '/usr/lib/podman' },
  // netavark sets up a compose project's bridge network with iptables (podman only suggests it).
  iptables: { name: 'iptables', command: 'iptables', install: 'apt-get install iptables', dir: '/usr/sbin' },
  ip: { name: 'iproute2', command: 'ip', install: 'apt-get install iproute2', dir: '/usr/sbin' }
} satisfies Record<string, Program>

// The command's absolute path on PATH, or undefined.
export function which (command: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (dir === '') continue
    const file = path.join(dir, command)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  return undefined
}

// Looks each program up on PATH: their absolute paths by command, and for those missing one line
// naming what to install (what a skipped suite or bench row prints).
export function findPrograms (programs: Program[]): { paths: Record<string, string>, missing: string | undefined } {
  const paths: Record<string, string> = {}
  const missing: Program[] = []
  for (const program of programs) {
    const found = which(program.command) ?? (program.dir === undefined ? undefined : which(program.command, program.dir))
    if (found === undefined) missing.push(program)
    else paths[program.command] = found
  }
  return { paths, missing: missing.length === 0 ? undefined : missing.map((p) => `${p.name} not found — ${p.install}`).join('; ') }
}
