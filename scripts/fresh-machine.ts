// Runs a command as a newcomer's machine would run it: none of the system programs that some
// suites need (scripts/programs.ts) can be executed, and CI is unset, so those suites skip with
// their install line and the coverage is judged as it is there. CI's fresh-machine pass.
//   tsx scripts/fresh-machine.ts <command…>
// As root (CI, these machines), each program found is hidden in a private mount namespace: an
// empty device is mounted over it, so a suite that reaches for it by absolute path instead of PATH
// finds it unexecutable too (and fails). Otherwise the programs' folders leave PATH, which hides
// only what is looked up on PATH, and the command says so.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PROGRAMS, which } from './programs.js'

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

// Every place where one of the programs is found: on PATH, in its own folder, in the system's
// (as the files they are: /bin/x and /usr/bin/x are one file where /bin links to /usr/bin).
export function programPaths (pathVar = process.env.PATH ?? ''): string[] {
  const found = new Set<string>()
  for (const program of Object.values(PROGRAMS)) {
    const dirs = [...pathVar.split(path.delimiter), ...SYSTEM_DIRS, ...('dir' in program ? [program.dir] : [])]
    for (const dir of dirs) {
      if (dir === '') continue
      const file = which(program.command, dir)
      if (file !== undefined) found.add(realpathSync(file))
    }
  }
  return [...found].sort()
}

function canUnshare (): boolean {
  try {
    execFileSync('unshare', ['--mount', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

// PATH without the programs: each folder that holds one is replaced by a folder of links to
// everything else in it.
function pathWithout (hidden: string[]): { pathVar: string, cleanup: () => void } {
  const dirs = new Set(hidden.map((f) => path.dirname(f)))
  const temp = mkdtempSync(path.join(tmpdir(), 'fresh-path-'))
  const pathVar = (process.env.PATH ?? '').split(path.delimiter).map((dir, i) => {
    if (!dirs.has(dir)) return dir
    const copy = path.join(temp, String(i))
    execFileSync('mkdir', ['-p', copy])
    for (const name of readdirSync(dir)) {
      if (!hidden.includes(path.join(dir, name))) symlinkSync(path.join(dir, name), path.join(copy, name))
    }
    return copy
  }).join(path.delimiter)
  return { pathVar, cleanup: () => rmSync(temp, { recursive: true, force: true }) }
}

function main (command: string[]) {
  if (command.length === 0) throw new Error('usage: tsx scripts/fresh-machine.ts <command…>')
  const hidden = programPaths()
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.CI
  const names = hidden.map((f) => path.basename(f)).join(', ')
  let child
  let cleanup = () => {}
  if (canUnshare()) {
    console.error(`fresh machine: CI unset, ${hidden.length} system programs made unexecutable${hidden.length === 0 ? '' : ` (${names})`}`)
    const mounts = hidden.map((f, i) => `mount --bind /dev/null "\${${i + 1}}"`).join(' && ')
    const script = `${mounts === '' ? '' : `${mounts} && `}shift ${hidden.length}; exec "$@"`
    child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...hidden, ...command], { stdio: 'inherit', env })
  } else {
    const without = pathWithout(hidden)
    cleanup = without.cleanup
    env.PATH = without.pathVar
    console.error(`fresh machine: CI unset, ${hidden.length} system programs left off PATH (${names}); no mount namespace here, so an absolute path still finds them`)
    child = spawn(command[0] as string, command.slice(1), { stdio: 'inherit', env })
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => {
    cleanup()
    process.exit(code ?? (signal === null ? 1 : 128))
  })
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.join(import.meta.dirname, 'fresh-machine.ts')) {
  main(process.argv.slice(2))
}
