// npm run bench:cluster: the same load against 1 replica, 3 replicas sharing a Redis, and 3
// replicas each on its own, in turn and ROUNDS times. Per run: Qualys calls and logins (the
// simulator's counters), the most calls in flight per credential, requests/s, p50/p99.
// Reports medians over the rounds and the ratios to one replica, measured in the same run.
// Needs redis-server (apt-get install redis-server). Writes bench/results/cluster-<date>.{json,md}.
// --smoke: one tiny round, the relay from its sources, for the test that keeps this alive.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createSigner } from 'fast-jwt'
import { Redis } from 'ioredis'
import { Agent, request } from 'undici'
import { startSimulator } from '../simulator/index.js'
import { loadFixtures } from '../simulator/fixtures/index.js'
import { benchFixtures, observables } from './fixtures.js'
import { freePort } from '../scripts/free-port.js'
import { startRedisServer } from '../scripts/redis-server.js'
import { contend } from '../scripts/contention.js'
import { median, percentile, relayUp } from './common.js'

const smoke = process.argv.includes('--smoke')
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 50)
const S = smoke ? { rounds: 1, requests: 60, concurrency: 8 } : { rounds: Number(process.env.BENCH_ROUNDS ?? 3), requests: 1200, concurrency: 24 }
const CONCURRENCY = 2 // QUALYS_CONCURRENCY: Qualys' documented default
const outDir = process.env.BENCH_OUT ?? path.join(import.meta.dirname, 'results')
const SECRET = 'bench-secret-0123456789abcdef0123'
const CREDENTIALS = [{ user: 'demo', pass: 'demo-password' }, { user: 'eve', pass: 'eve-password-123' }]
const JWTS = CREDENTIALS.map((c) => createSigner({ key: SECRET, algorithm: 'HS256' })(c))
const ROOT = path.join(import.meta.dirname, '..')

const redisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim()
if (redisServer === '') {
  console.error('bench:cluster needs redis-server — apt-get install redis-server')
  process.exit(1)
}

// 60 lists of 1–3 observables drawn from 40 (every type): lists overlap, and a request picks one
// of them at random (seeded: every configuration gets the same sequence).
const pool = observables('mixed', 40)
let seed = 42
const random = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
const LISTS = Array.from({ length: 60 }, () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pool[Math.floor(random() * pool.length)]))
const LOAD = Array.from({ length: S.requests }, (_, i) => ({ list: JSON.stringify(LISTS[Math.floor(random() * LISTS.length)]), jwt: JWTS[i % JWTS.length] as string }))

const fixtures = benchFixtures(loadFixtures())
const sim = await startSimulator({ latencyMs, fixtures, accounts: Object.fromEntries(CREDENTIALS.map((c) => [c.user, c.pass])) })
const redis = await startRedisServer(redisServer)
const admin = new Redis(redis.port, '127.0.0.1')
const children: ChildProcess[] = []
const dispatcher = new Agent({ connections: 64 })

async function startReplica (redisUrl?: string): Promise<{ url: string, metrics: string }> {
  const [port, metricsPort] = [await freePort(), await freePort()]
  const child = spawn(process.execPath, smoke ? ['--import', 'tsx', 'server.ts'] : ['dist/server.js'], {
    cwd: ROOT,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      API_URL: sim.url,
      SECRET_KEY: SECRET,
      LOG_LEVEL: 'warn',
      QUALYS_CONCURRENCY: String(CONCURRENCY),
      ...(process.env.REDIS_TIMEOUT_MS === undefined ? {} : { REDIS_TIMEOUT_MS: process.env.REDIS_TIMEOUT_MS }),
      ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl }),
      // Smoke: the relay from its sources under tsx, beside the rest of the suite; its overload guard
      // (503 when the event loop lags a second) would measure that, not the sharing.
      ...(smoke ? { FASTIFY_AUTOLOAD_TYPESCRIPT: '1', MAX_EVENT_LOOP_DELAY_MS: '0' } : {})
    }
  })
  children.push(child)
  const url = `http://127.0.0.1:${port}`
  await relayUp(url, dispatcher)
  return { url, metrics: `http://127.0.0.1:${metricsPort}/metrics` }
}

interface Run { reasons?: Record<string, number>, calls: number, duplicates: number, logins: number, maxInFlight: number, rps: number, p50: number, p99: number, failed: number, fallbacks: number }

// One run: fresh replicas (no token, empty caches), an empty Redis, the simulator's counters at 0.
async function run (replicas: number, shared: boolean, busy: boolean): Promise<Run> {
  await admin.flushall()
  const started = await Promise.all(Array.from({ length: replicas }, () => startReplica(shared ? redis.url : undefined)))
  const urls = started.map((r) => r.url)
  if (shared) await new Promise((resolve) => setTimeout(resolve, 300)) // the replicas' Redis connections
  sim.reset()
  const load = busy ? contend() : undefined
  const times: number[] = []
  let failed = 0
  const reasons: Record<string, number> = {} // why requests failed: HTTP status and error code
  const fail = (why: string) => { failed++; reasons[why] = (reasons[why] ?? 0) + 1 }
  let next = 0
  const t00 = performance.now()
  await Promise.all(Array.from({ length: S.concurrency }, async () => {
    while (next < LOAD.length) {
      const i = next++
      const { list, jwt } = LOAD[i] as { list: string, jwt: string }
      const t0 = performance.now()
      try {
        const res = await request(`${urls[i % urls.length]}/observe/observables`, {
          method: 'POST', dispatcher, headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' }, body: list
        })
        const body = await res.body.json() as { errors?: Array<{ code: string }> }
        if (res.statusCode !== 200 || body.errors !== undefined) fail(`${res.statusCode} ${body.errors?.map((e) => e.code).join(',') ?? ''}`.trim())
      } catch (err) {
        fail((err as Error).name)
      }
      times.push(performance.now() - t0)
    }
  }))
  const seconds = (performance.now() - t00) / 1000
  load?.stop()
  // Redis calls that failed or were too slow (each served from the replica's own state).
  let fallbacks = 0
  for (const r of started) {
    const text = await (await request(r.metrics, { dispatcher })).body.text()
    for (const m of text.matchAll(/^relay_redis_fallbacks_total\{kind="\w+"\} (\d+)$/gm)) fallbacks += Number(m[1])
  }
  for (const child of children.splice(0)) child.kill('SIGKILL')
  // Calls beyond the first for the same (credential, query): the budget spent twice.
  const seen = new Set<string>()
  let duplicates = 0
  for (const c of sim.calls) {
    if (c.path === 'auth') continue
    const key = `${c.user} ${c.path} ${c.state} ${c.pageSize}/${c.pageNumber} ${c.filter}`
    if (seen.has(key)) duplicates++
    else seen.add(key)
  }
  return {
    reasons,
    calls: sim.counters.events,
    duplicates,
    logins: sim.counters.logins,
    maxInFlight: Math.max(...Object.values(sim.byUser).map((u) => u.maxInFlight)),
    rps: LOAD.length / seconds,
    p50: median(times),
    p99: percentile(times, 0.99),
    failed,
    fallbacks
  }
}

const CONFIGS = [
  { name: '1 replica', replicas: 1, shared: false, busy: false },
  { name: '3 replicas + Redis', replicas: 3, shared: true, busy: false },
  { name: '3 replicas, no Redis', replicas: 3, shared: false, busy: false },
  // One busy process per core beside everything: the machine a replica is added for.
  { name: '1 replica, CPU busy', replicas: 1, shared: false, busy: true },
  { name: '3 replicas + Redis, CPU busy', replicas: 3, shared: true, busy: true }
]
const runs: Record<string, Run[]> = Object.fromEntries(CONFIGS.map((c) => [c.name, []]))
try {
  for (let round = 0; round < S.rounds; round++) {
    for (const c of CONFIGS) {
      const r = await run(c.replicas, c.shared, c.busy)
      runs[c.name]?.push(r)
      console.log(`round ${round + 1} ${c.name}: ${JSON.stringify(r)}`)
    }
  }
} finally {
  for (const child of children) child.kill('SIGKILL')
  admin.disconnect()
  redis.kill()
  await sim.close()
  await dispatcher.close()
}

const keys = ['calls', 'duplicates', 'logins', 'maxInFlight', 'rps', 'p50', 'p99', 'failed', 'fallbacks'] as const
const medians = Object.fromEntries(CONFIGS.map((c) => [c.name, Object.fromEntries(keys.map((k) => [k, median((runs[c.name] ?? []).map((r) => r[k]))]))])) as unknown as Record<string, Run>
const one = medians['1 replica'] as Run
const fmt = (n: number, digits = 0) => n.toFixed(digits)
const lines = [
  `# Replicas — ${new Date().toISOString()}`,
  '',
  `${S.requests} observe requests per run (${S.concurrency} at a time, round-robin over the replicas, 2 credentials, ` +
  `lists of 1–3 of 40 observables, ${LISTS.length} distinct lists), Qualys latency ${latencyMs} ms, QUALYS_CONCURRENCY=${CONCURRENCY}, ` +
  `fresh replicas and an empty Redis per run; "CPU busy": one busy process per core during the load. Medians of ${S.rounds} runs per configuration, interleaved; ratios to 1 replica (idle, or CPU busy for the busy rows) in the same run.`,
  '',
  '| configuration | Qualys calls | duplicate fetches | logins | max in flight / credential | req/s | p50 ms | p99 ms | failed | Redis fallbacks | calls × | p50 × |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...CONFIGS.map((c) => {
    const m = medians[c.name] as Run
    const base = (c.busy ? medians['1 replica, CPU busy'] : one) as Run
    return `| ${c.name} | ${fmt(m.calls)} | ${fmt(m.duplicates)} | ${fmt(m.logins)} | ${fmt(m.maxInFlight)} | ${fmt(m.rps)} | ${fmt(m.p50, 1)} | ${fmt(m.p99, 1)} | ${fmt(m.failed)} | ${fmt(m.fallbacks)} | ${fmt(m.calls / base.calls, 2)} | ${fmt(m.p50 / base.p50, 2)} |`
  })
]
const markdown = lines.join('\n') + '\n'
console.log(markdown)
mkdirSync(outDir, { recursive: true })
const stamp = new Date().toISOString().slice(0, 16).replace(':', '-')
writeFileSync(path.join(outDir, `cluster-${stamp}.json`), JSON.stringify({ smoke, latencyMs, ...S, runs, medians }, null, 2))
writeFileSync(path.join(outDir, `cluster-${stamp}.md`), markdown)
