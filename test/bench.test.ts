import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { spawnTs } from './helper.js'
import { PROGRAMS, withPrograms } from './system.js'

// The benchmark in smoke mode (tiny durations, relay from its sources): it must keep running and
// writing its three reports. Its figures are not judged here: speed lives in `npm run bench`.
t.test('npm run bench --smoke writes its JSON, markdown and SVG', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-'))
  const bench = spawnTs(t, 'bench/run.ts', { BENCH_OUT: out, BENCH_LATENCY_MS: '5' }, ['--smoke'])
  t.equal(await bench.exited, 0, bench.output().slice(-2000))
  const files = readdirSync(out).sort()
  t.same(files.map((f) => path.extname(f)), ['.json', '.md', '.svg'])
  const json = JSON.parse(readFileSync(path.join(out, files[0] as string), 'utf8'))
  t.equal(json.smoke, true)
  t.same(json.latency.map((r: { series: string, observables: number }) => `${r.series} ${r.observables}`),
    ['sha256 1', 'sha256 3', 'mixed 1', 'mixed 3'])
  t.equal(json.loginsPer1000 > 0, true, 'a fresh relay logs in')
  t.same(Object.keys(json.grouping), ['mixed', 'per-type', 'off'], 'the three groupings measured')
  t.ok(json.grouping.mixed.qualysCalls < json.grouping.off.qualysCalls, 'batching saves calls even at 3 observables')
  t.ok(json.relayCpu.cpuMsPerRequest >= 0 && json.relayCpu.answerBytes > 100_000, 'relay CPU measured on a 100-event answer')
  for (const key of ['refer', 'bare', 'observeCacheOff', 'observeCacheOn']) t.ok(json[key].rps > 0, `${key} measured`)
  t.same(Object.keys(json.startup.rows), ['relay', 'design floor', 'bare Fastify'], 'start-up measured next to its yardsticks')
  t.ok(json.startup.readyRatio > 0 && json.startup.rssRatio > 0)
  t.equal(Object.keys(json.tenants).length, 4, 'the real-tenant rows')
  t.ok(json.budget.after.investigations.asked > 0 && json.budget.after.tiles.asked > 0, 'the budget scenario ran')
  t.match(readFileSync(path.join(out, files[2] as string), 'utf8'), /^<svg /)
})

t.test('npm run load --smoke: no failed request, a report written', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'load-'))
  const load = spawnTs(t, 'bench/load.ts', { BENCH_OUT: out, BENCH_LATENCY_MS: '5' }, ['--smoke'])
  t.equal(await load.exited, 0, load.output().slice(-2000))
  const file = readdirSync(out).find((f) => f.endsWith('.json')) as string
  const json = JSON.parse(readFileSync(path.join(out, file), 'utf8'))
  t.match(json, { mode: 'load', smoke: true, failed: 0, answersWithErrors: 0, logins: 1 })
  t.ok(json.requests > 0)
})

t.test('npm run slow-clients --smoke: every slow or idle connection closed by the relay', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'slow-'))
  const run = spawnTs(t, 'bench/slow-clients.ts', { BENCH_OUT: out }, ['--smoke'])
  t.equal(await run.exited, 0, run.output().slice(-2000))
  const json = JSON.parse(readFileSync(path.join(out, readdirSync(out)[0] as string), 'utf8'))
  for (const kind of ['slow headers', 'slow body', 'idle']) {
    t.equal(json.byKind[kind].closedByRelay, json.byKind[kind].connections, `${kind}: all closed by the relay`)
  }
})

withPrograms(t, [PROGRAMS.redis], 'npm run bench:cluster --smoke: five configurations measured (two with the CPU busy), a report written', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'cluster-'))
  const run = spawnTs(t, 'bench/cluster.ts', { BENCH_OUT: out, BENCH_LATENCY_MS: '5' }, ['--smoke'])
  t.equal(await run.exited, 0, run.output().slice(-2000))
  const file = readdirSync(out).find((f) => f.endsWith('.json')) as string
  const json = JSON.parse(readFileSync(path.join(out, file), 'utf8'))
  t.same(Object.keys(json.medians), ['1 replica', '3 replicas + Redis', '3 replicas, no Redis', '1 replica, CPU busy', '3 replicas + Redis, CPU busy'])
  for (const [name, m] of Object.entries(json.medians) as Array<[string, { failed: number, calls: number, logins: number, duplicates: number }]>) {
    // Under CPU contention the relay's overload guard may answer a 503: only the idle rows must not fail.
    t.ok((name.includes('CPU busy') || m.failed === 0) && m.calls > 0 && m.logins > 0, `${name}: calls and logins counted (${m.failed} failed)`)
    if (!name.includes('no Redis')) t.equal(m.duplicates, 0, `${name}: no query fetched twice`)
  }
  t.match(readFileSync(path.join(out, file.replace('.json', '.md')), 'utf8'), /\| 3 replicas \+ Redis \|/)
})
