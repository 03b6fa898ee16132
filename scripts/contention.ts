import { spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'

// CPU contention beside the processes under test: one busy Node process per core (by default),
// so that claims made under load (the shared cap, one fetch per query, timeouts) are checked on
// a machine whose event loops lag. For the tests and the benches; `stop` ends them.
export function contend (processes = availableParallelism()): { stop: () => void } {
  const children: ChildProcess[] = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
  return { stop: () => { for (const child of children) child.kill('SIGKILL') } }
}
