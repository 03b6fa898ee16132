import path from 'node:path'
import t from 'tap'
import { counts, judge, thresholds, type FileSummary } from '../../scripts/run-tap.js'

// How the test runner judges a run's coverage (scripts/run-tap.ts): the .taprc thresholds over
// the whole tree; a file that only a skipped suite's program reaches is left out; one line says it.
const ROOT = '/repo'
const file = (covered: number, total = 100): FileSummary => ({
  statements: { total, covered }, branches: { total, covered }, functions: { total, covered }, lines: { total, covered }
})
const limits = thresholds('statements: 90\nbranches: 85\nfunctions: 90\nlines: 90\n')
const programs = [{ name: 'redis-server', command: 'redis-server', install: 'apt-get install redis-server', reaches: ['state/redis.ts'] }]

t.test('thresholds come from .taprc, each of the four required', async (t) => {
  t.same(limits, { statements: 90, branches: 85, functions: 90, lines: 90 })
  t.throws(() => thresholds('statements: 90\n'), /states no branches threshold/)
})

t.test('a full run: the whole tree holds the thresholds, or one line says which metric failed', async (t) => {
  const ok = judge({ [path.join(ROOT, 'a.ts')]: file(95), [path.join(ROOT, 'state/redis.ts')]: file(90) }, limits, [], programs, ROOT)
  t.equal(ok.ok, true)
  t.equal(ok.line, 'coverage ok: statements 92.5 %, branches 92.5 %, functions 92.5 %, lines 92.5 % (thresholds in .taprc: 90/85/90/90); no suite skipped')
  const red = judge({ [path.join(ROOT, 'a.ts')]: file(95), [path.join(ROOT, 'untested.ts')]: file(0, 20) }, limits, [], programs, ROOT)
  t.equal(red.ok, false)
  t.equal(red.line, 'coverage below its threshold: statements 79.16 % < 90 %, branches 79.16 % < 85 %, functions 79.16 % < 90 %, lines 79.16 % < 90 % (.taprc); no suite skipped')
})

t.test('a run with skipped suites: what only their program reaches is left out, nothing else', async (t) => {
  const files = { [path.join(ROOT, 'a.ts')]: file(95), [path.join(ROOT, 'state/redis.ts')]: file(10) }
  const skipped = [{ file: 'test/redis.test.ts', name: 'x', missing: ['redis-server'] }, { file: 'test/x.test.ts', name: 'y', missing: ['no-such-program'] }]
  const verdict = judge(files, limits, skipped, programs, ROOT)
  t.equal(verdict.ok, true)
  t.same(verdict.leftOut, ['state/redis.ts'])
  t.equal(verdict.line, 'coverage ok: statements 95 %, branches 95 %, functions 95 %, lines 95 % (thresholds in .taprc: 90/85/90/90); skipped suites: test/redis.test.ts (redis-server); left out of the totals, reached only by those: state/redis.ts')
  t.equal(judge(files, limits, [], programs, ROOT).ok, false, 'the same files with the Redis suite run (CI): judged whole, red')
  t.equal(judge({ ...files, [path.join(ROOT, 'b.ts')]: file(0, 50) }, limits, skipped, programs, ROOT).ok, false, 'an untested file elsewhere still fails')
})

t.test('tap\'s closing counts', async (t) => {
  t.same(counts('ok 1\n# { total: 2107, pass: 2089, skip: 18 }\n# time=1ms\n'), { pass: 2089, fail: 0, skip: 18, todo: 0 })
  t.same(counts('# { total: 3, pass: 1, fail: 2 }\n'), { pass: 1, fail: 2, skip: 0, todo: 0 })
  t.same(counts('nothing'), { pass: 0, fail: 0, skip: 0, todo: 0 })
})

t.test('a file with several skipped suites is named once, with every program it missed', async (t) => {
  const skipped = [{ file: 'test/e.test.ts', name: 'a', missing: ['redis-server'] }, { file: 'test/e.test.ts', name: 'b', missing: ['redis-server', 'nginx'] }]
  const both = [...programs, { name: 'nginx', command: 'nginx', install: 'apt-get install nginx' }]
  t.match(judge({ [path.join(ROOT, 'a.ts')]: file(95) }, limits, skipped, both, ROOT).line, /; skipped suites: test\/e\.test\.ts \(redis-server, nginx\)$/)
})
