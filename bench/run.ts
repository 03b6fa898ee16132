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
import { markdown, svgChart, type LatencyRow } from './report.js'
import { freePort } from '../scripts/free-port.js'

const smoke = process.argv.includes('--smoke')
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 50)
const S = smoke
  ? { samples: 3, duration: 1, logins: 64, rssRequests: 320, sizes: [1, 3] }
  : { samples: 21, duration: 10, logins: 1000, rssRequests: 100_000, sizes: [1, 10, 50] }
const outDir = process.env.BENCH_OUT ?? path.join(import.meta.dirname, 'results')
const SECRET = 'bench-secret-0123456789abcdef0123'
const JWT = createSigner({ key: SECRET, algorithm: 'HS256' })({ user: 'demo', pass: 'demo-password' })
const headers = { authorization: `Bearer ${JWT}`, 'content-type': 'application/json' }
const children: ChildProcess[] = []

const sim = await startSimulator({ latencyMs })

async function startRelay (env: Record<string, string>): Promise<{ url: string, pid: number }> {
  const port = await freePort()
  const args = smoke ? ['--import', 'tsx', 'bench/server.mjs'] : ['bench/server.mjs']
  const child = spawn(process.execPath, args, {
    cwd: path.join(import.meta.dirname, '..'),
    stdio: 'ignore',
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      API_URL: sim.url,
      PLATFORM_URL: 'https://qualysguard.qg2.apps.qualys.com',
      SECRET_KEY: SECRET,
      LOG_LEVEL: 'info',
      ...env,
      ...(smoke ? { BENCH_APP: '../app.ts', FASTIFY_AUTOLOAD_TYPESCRIPT: '1' } : {})
    }
  })
  children.push(child)
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      const res = await request(`${url}/version`, { method: 'POST' })
      await res.body.dump()
      break
    } catch (err) {
      if (i > 200) throw err
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return { url, pid: child.pid as number }
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] as number }
const p90 = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length * 0.9)] as number }
const hex = (i: number, len: number) => i.toString(16).padStart(len, '0')
const TYPES = ['md5', 'sha256', 'file_name', 'file_path', 'ip', 'domain', 'mutex']

function observables (series: string, n: number) {
  return Array.from({ length: n }, (_, i) => {
    if (series === 'sha256') return { type: 'sha256', value: i === 0 ? '4ad5e3c4ea0b3a8c84a5ba9ec4e8f0cd1cd26fbb54e1e01b54b0e6e0cc9a0f34' : hex(i, 64) }
    const type = TYPES[i % 7] as string
    const value = { md5: hex(i, 32), sha256: hex(i, 64), file_name: `tool${i}.exe`, file_path: `C:\\Temp\\${i}`, ip: `10.9.${i}.1`, domain: `host${i}.example`, mutex: `Global\\M${i}` }[type] as string
    return { type, value }
  })
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
  const latency: LatencyRow[] = []
  await post(`${cold.url}/observe/observables`, observables('sha256', 1))
  for (const series of ['sha256', 'mixed']) {
    for (const n of S.sizes) {
      const body = observables(series, n)
      const before = sim.calls.length
      const times: number[] = []
      for (let i = 0; i < S.samples; i++) times.push(await post(`${cold.url}/observe/observables`, body))
      latency.push({
        series,
        observables: n,
        medianMs: median(times),
        p90Ms: p90(times),
        qualysCalls: (sim.calls.length - before) / S.samples,
        referenceMs: latencyMs * (1 + 2 * n),
        referenceCalls: 1 + 2 * n
      })
    }
  }

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
  const result = { date, smoke, machine, latencyMs, latency, loginsPer1000, refer, bare, referRatio: refer.rps / bare.rps, observeCacheOff, observeCacheOn, rss }
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, `${date}.json`), JSON.stringify(result, null, 2) + '\n')
  writeFileSync(path.join(outDir, `${date}.md`), markdown(result))
  writeFileSync(path.join(outDir, `${date}.svg`), svgChart(latency, latencyMs))
  console.log(markdown(result))
  console.log(`written: ${path.join(outDir, date)}.{json,md,svg}`)
} finally {
  for (const child of children) child.kill('SIGTERM')
  await sim.close()
}
