import t from 'tap'
import { spawnTs } from './helper.js'
import { underCi, which } from './system.js'

// The gate of the suites that need a program outside npm: skipped with one line locally,
// failed under CI.
t.test('a missing program: one skip line with CI unset, a failure under CI=true', async (t) => {
  const local = spawnTs(t, 'test/fixtures/needs-missing-program.ts', {})
  t.equal(await local.exited, 0, 'CI unset: the run passes')
  t.match(local.output(), /# SKIP skipped: no-such-program not found — apt-get install no-such-program/)
  t.notMatch(local.output(), /not ok/)

  const ci = spawnTs(t, 'test/fixtures/needs-missing-program.ts', { CI: 'true' })
  t.not(await ci.exited, 0, 'CI=true: the run fails')
  t.match(ci.output(), /not ok \d+ - no-such-program not found — apt-get install no-such-program \(CI is set/)
})

t.test('which and underCi', async (t) => {
  t.equal(which('node', `/nonexistent:${process.execPath.replace(/\/node$/, '')}`), process.execPath)
  t.equal(which('node', '/nonexistent'), undefined)
  t.equal(which('node', ''), undefined)
  for (const [value, expected] of [[undefined, false], ['', false], ['false', false], ['0', false], ['true', true], ['1', true]] as const) {
    t.equal(underCi(value === undefined ? {} : { CI: value }), expected, `CI=${String(value)}`)
  }
})
