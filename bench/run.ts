// npm run bench: the simulator with an injected latency, the relay (compiled, production mode)
// in child processes, autocannon as a library. Writes bench/results/<date>.{json,md,svg}.
// --smoke: tiny durations and the relay from its sources, for the test that keeps this alive.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { createSigner } from 'fast-jwt'
import { request } from 'undici'
import { startSimulator } from '../simulator/index.js'
import { loadFixtures } from '../simulator/fixtures/index.js'
import { benchFixtures, observables } from './fixtures.js'
import { markdown, svgChart, type LatencyRow } from './report.js'
import { freePort } from '../scripts/free-port.js'
import { median, percentile, relayUp } from './common.js'
import { startup } from './startup.js'
import { containerStart } from './container.js'
import { budgetRow } from './budget.js'

const smoke = process.argv.includes('--smoke')
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 50)
const S = smoke
  ? { samples: 3, duration: 1, logins: 64, rssRequests: 320, sizes: [1, 3], cpuRequests: 5 }
  : { samples: 41, duration: 10, logins: 1000, rssRequests: 100_000, sizes: [1, 10, 50], cpuRequests: 200 }
const outDir = process.env.BENCH_OUT ?? path.join(import.meta.dirname, 'results')
const SECRET = 'bench-secret-0123456789abcdef0123'
const JWT = createSigner({ key: SECRET, algorithm: 'HS256' })({ user: 'demo', pass: 'demo-password' })
const headers = { authorization: `Bearer ${JWT}`, 'content-type': 'application/json' }
const children: ChildProcess[] = []

const fixtures = benchFixtures(loadFixtures())
const sim = await startSimulator({ latencyMs, fixtures })
const instant = await startSimulator({ latencyMs: 0, fixtures }) // for the relay's own CPU time

async function startRelay (env: Record<string, string>, qualys = sim): Promise<{ url: string, pid: number }> {
  const port = await freePort()
  const args = smoke ? ['--import', 'tsx', 'bench/server.mjs'] : ['bench/server.mjs']
  const child = spawn(process.execPath, args, {
    cwd: path.join(import.meta.dirname, '..'),
    stdio: 'ignore',
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      API_URL: qualys.url,
      PLATFORM_URL: 'https://qualysguard.qg2.apps.qualys.com',
      SECRET_KEY: SECRET,
      LOG_LEVEL: 'info',
      ...env,
      // Smoke: the relay from its sources under tsx, beside the rest of the suite; its overload
      // guard (503 when the event loop lags a second) would measure that, not the relay (as in
      // bench/cluster.ts).
      ...(smoke ? { BENCH_APP: '../app.ts', FASTIFY_AUTOLOAD_TYPESCRIPT: '1', MAX_EVENT_LOOP_DELAY_MS: '0' } : {})
    }
  })
  children.push(child)
  const url = `http://127.0.0.1:${port}`
  await relayUp(url)
  return { url, pid: child.pid as number }
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024
// User + system CPU time of a process so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms).
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10
}

// Median and p99 latency of `samples` sequential requests, and the Qualys calls each cost.
async function measure (url: string, body: unknown, qualys = sim) {
  const before = qualys.counters.events
  const times: number[] = []
  for (let i = 0; i < S.samples; i++) times.push(await post(url, body))
  return { medianMs: median(times), p90Ms: percentile(times, 0.9), p99Ms: percentile(times, 0.99), qualysCalls: (qualys.counters.events - before) / S.samples }
}

async function post (url: string, body: unknown): Promise<number> {
  const started = performance.now()
  const res = await request(url, { method: 'POST', headers, body: JSON.stringify(body) })
  const json = await res.body.json() as { errors?: unknown }
  if (res.statusCode !== 200 || json.errors !== undefined) throw new Error(`bench request failed: ${JSON.stringify(json)}`)
  return performance.now() - started
}

async function load (url: string, body: unknown, opts: { duration?: number, amount?: number }) {
  if (!url.endsWith('/bench/bare')) await post(url, body) // the load's request answers without errors
  const r = await autocannon({ url, method: 'POST', headers, body: JSON.stringify(body), connections: 64, ...opts })
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`load on ${url}: ${r.errors} errors, ${r.non2xx} non-2xx`)
  return { rps: r.requests.average, p99: r.latency.p99 }
}

try {
  const cold = await startRelay({ LOOKUP_CACHE_TTL_S: '0' })
  const warm = await startRelay({})

  // a. latency by number of observables (cache off, token warm), and the Qualys calls it cost.
  // The mixed series has 7 of each type at its largest size (49), 2 events per observable.
  const latency: LatencyRow[] = []
  await post(`${cold.url}/observe/observables`, observables('sha256', 1))
  for (const series of ['sha256', 'mixed'] as const) {
    for (const size of S.sizes) {
      const n = series === 'mixed' && size === 50 ? 49 : size
      latency.push({
        series,
        observables: n,
        ...await measure(`${cold.url}/observe/observables`, observables(series, n)),
        referenceMs: latencyMs * (1 + 2 * n),
        referenceCalls: 1 + 2 * n
      })
    }
  }

  // a2. how to group the largest mixed request: all types in one query, one per type, or none.
  const mixedMax = observables('mixed', S.sizes.at(-1) === 50 ? 49 : S.sizes.at(-1) as number)
  const grouping: Record<string, Awaited<ReturnType<typeof measure>>> = {}
  for (const mode of ['mixed', 'per-type', 'off']) {
    const relay = await startRelay({ LOOKUP_CACHE_TTL_S: '0', QUALYS_BATCH: mode })
    await post(`${relay.url}/observe/observables`, observables('sha256', 1)) // log in first
    grouping[mode] = await measure(`${relay.url}/observe/observables`, mixedMax)
  }

  // a3. the relay's own CPU per answer: Qualys answers at once, the lookup cache is off, and a
  // 50-sha256 request finds 100 events. Wall time per request, and the process's CPU time.
  const cpuRelay = await startRelay({ LOOKUP_CACHE_TTL_S: '0' }, instant)
  const cpuBody = observables('sha256', 50)
  const answerBytes = (await (await request(`${cpuRelay.url}/observe/observables`, { method: 'POST', headers, body: JSON.stringify(cpuBody) })).body.text()).length
  for (let i = 0; i < 20; i++) await post(`${cpuRelay.url}/observe/observables`, cpuBody) // warm up the JIT
  const cpuBefore = cpuMs(cpuRelay.pid)
  const walls: number[] = []
  for (let i = 0; i < S.cpuRequests; i++) walls.push(await post(`${cpuRelay.url}/observe/observables`, cpuBody))
  const relayCpu = { requests: S.cpuRequests, answerBytes, medianWallMs: median(walls), cpuMsPerRequest: (cpuMs(cpuRelay.pid) - cpuBefore) / S.cpuRequests }

  // a4. what real tenants do (qualys-api.md §2.6): 50 sha256 behind a front end that refuses
  // request targets over 4,096 bytes (414, HTML), with the default QUALYS_MAX_URL_BYTES and with an
  // operator's guess of 8000 (the refusal paid, then learnt); one noisy observable (1,500 events
  // per state) among 50 sha256.
  const fifty = observables('sha256', 50)
  const walled = await startSimulator({ latencyMs, fixtures, targetLimit: { bytes: 4096 } })
  const noise = Array.from({ length: 1500 }, (_, i) => ({ id: `F_noise_${i}`, type: 'FILE', dateTime: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString().replace('Z', '+0000'), score: '0', file: { sha256: 'e'.repeat(64) } }))
  const noisy = await startSimulator({ latencyMs, fixtures: { active: [...fixtures.active, ...noise], historical: [...fixtures.historical, ...noise.map((e) => ({ ...e, id: `${e.id}_h` }))] } })
  const tenants: Record<string, Awaited<ReturnType<typeof measure>> & { refused: number }> = {}
  try {
    for (const [name, qualys, env, body] of [
      ['50 sha256, 4 KB front end, QUALYS_MAX_URL_BYTES default', walled, {}, fifty],
      ['50 sha256, 4 KB front end, QUALYS_MAX_URL_BYTES=8000', walled, { QUALYS_MAX_URL_BYTES: '8000' }, fifty],
      ['1 noisy among 50 sha256, default', noisy, {}, [...fifty.slice(0, 49), { type: 'sha256', value: 'e'.repeat(64) }]],
      ['1 noisy among 50 sha256, QUALYS_MAX_URL_BYTES=8000', noisy, { QUALYS_MAX_URL_BYTES: '8000' }, [...fifty.slice(0, 49), { type: 'sha256', value: 'e'.repeat(64) }]]
    ] as const) {
      const relay = await startRelay({ LOOKUP_CACHE_TTL_S: '0', ...env }, qualys)
      const refusedBefore = qualys.calls.filter((c) => c.status === 414).length
      tenants[name] = { ...await measure(`${relay.url}/observe/observables`, body, qualys), refused: qualys.calls.filter((c) => c.status === 414).length - refusedBefore }
    }
  } finally {
    await walled.close()
    await noisy.close()
  }

  // a5. start-up: ready time and idle RSS of the built relay next to the design floor and bare Fastify.
  const start = await startup(smoke ? 1 : 9, smoke)
  // a6. the container image: podman run → healthy (builds the image: a few minutes; not in smoke runs).
  const container = smoke ? { skipped: 'smoke run' } : await containerStart(3)

  // a7. the Qualys budget under contention: the over-subscribed hour, before and after.
  const budget = await budgetRow(smoke)

  // b. logins per 1,000 requests with one credential, from a relay that has never logged in.
  const fresh = await startRelay({ LOOKUP_CACHE_TTL_S: '0' })
  const logins = sim.counters.logins
  await load(`${fresh.url}/observe/observables`, observables('sha256', 1), { amount: S.logins })
  const loginsPer1000 = (sim.counters.logins - logins) * 1000 / S.logins

  // c. /refer against a bare route in the same process; d. /observe with the cache off and on.
  const refer = await load(`${warm.url}/refer/observables`, observables('mixed', 5), { duration: S.duration })
  const bare = await load(`${warm.url}/bench/bare`, observables('mixed', 5), { duration: S.duration })
  const observeCacheOff = await load(`${cold.url}/observe/observables`, observables('sha256', 1), { duration: S.duration })
  const observeCacheOn = await load(`${warm.url}/observe/observables`, observables('sha256', 1), { duration: S.duration })

  // e. RSS before and after many requests.
  const beforeMb = rssMb(warm.pid)
  await load(`${warm.url}/observe/observables`, observables('sha256', 1), { amount: S.rssRequests })
  const rss = { beforeMb, afterMb: rssMb(warm.pid), requests: S.rssRequests }

  const date = new Date().toISOString().slice(0, 16).replace(':', '-')
  const cpu = os.cpus()
  const machine = `${cpu.length} × ${cpu[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()}`
  const result = { date, smoke, machine, latencyMs, latency, grouping, tenants, startup: start, container, relayCpu, budget, loginsPer1000, refer, bare, referRatio: refer.rps / bare.rps, observeCacheOff, observeCacheOn, rss }
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, `${date}.json`), JSON.stringify(result, null, 2) + '\n')
  writeFileSync(path.join(outDir, `${date}.md`), markdown(result))
  writeFileSync(path.join(outDir, `${date}.svg`), svgChart(latency, latencyMs))
  console.log(markdown(result))
  console.log(`written: ${path.join(outDir, date)}.{json,md,svg}`)
} finally {
  for (const child of children) child.kill('SIGTERM')
  await sim.close()
  await instant.close()
}
