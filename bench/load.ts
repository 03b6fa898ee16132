// npm run load: 500 connections for 30 s against /observe (simulated Qualys latency), counting
// failed requests and answers that carry errors; p50/p99 and the relay's RSS.
// npm run soak: a steady load for SOAK_MINUTES (default 10), sampling RSS every 15 s.
// Both are bounded; results go to bench/results/{load,soak}-<date>.{json,md}.
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import autocannon from 'autocannon'
import { createSigner } from 'fast-jwt'
import { startSimulator } from '../simulator/index.js'
import { freePort } from '../scripts/free-port.js'
import { relayUp } from './common.js'

const soak = process.argv.includes('--soak')
const smoke = process.argv.includes('--smoke')
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 50)
const seconds = smoke ? 2 : soak ? Number(process.env.SOAK_MINUTES ?? 10) * 60 : Number(process.env.LOAD_SECONDS ?? 30)
const connections = smoke ? 50 : soak ? 32 : 500
const outDir = process.env.BENCH_OUT ?? path.join(import.meta.dirname, 'results')
const SECRET = 'load-secret-0123456789abcdef012345'
const JWT = createSigner({ key: SECRET, algorithm: 'HS256' })({ user: 'demo', pass: 'demo-password' })

// 60 distinct observables of every type: the lookup cache (60 s) serves repeats, misses go to Qualys.
const TYPES = ['md5', 'sha256', 'file_name', 'file_path', 'ip', 'domain', 'mutex']
const POOL = Array.from({ length: 60 }, (_, i) => {
  const type = TYPES[i % 7] as string
  const value = { md5: i.toString(16).padStart(32, '0'), sha256: i.toString(16).padStart(64, '0'), file_name: `tool${i}.exe`, file_path: `C:\\Temp\\${i}`, ip: `10.8.${i}.1`, domain: `host${i}.example`, mutex: `Global\\M${i}` }[type]
  return JSON.stringify([{ type, value }, { type: 'mutex', value: 'MSFTHISTORY!' }])
})

const sim = await startSimulator({ latencyMs })
const port = await freePort()
const child = spawn(process.execPath, smoke ? ['--import', 'tsx', 'server.ts'] : ['dist/server.js'], {
  cwd: path.join(import.meta.dirname, '..'),
  stdio: 'ignore',
  env: { ...process.env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', API_URL: sim.url, SECRET_KEY: SECRET, LOG_LEVEL: 'warn', ...(smoke ? { FASTIFY_AUTOLOAD_TYPESCRIPT: '1' } : {}) }
})
const url = `http://127.0.0.1:${port}`
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024

try {
  await relayUp(url)
  let withErrors = 0
  let n = 0
  const rss: Array<{ s: number, mb: number }> = [{ s: 0, mb: rssMb() }]
  const started = Date.now()
  const sampler = setInterval(() => rss.push({ s: Math.round((Date.now() - started) / 1000), mb: rssMb() }), smoke ? 500 : 15_000)
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 30,
    ...(soak ? { overallRate: 200 } : {}), // a steady rate: the soak watches memory, not throughput
    requests: [{
      method: 'POST',
      path: '/observe/observables',
      headers: { authorization: `Bearer ${JWT}`, 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: POOL[n++ % POOL.length] }),
      onResponse: (_status, body) => { if (body.includes('"errors"')) withErrors++ }
    }]
  })
  clearInterval(sampler)
  rss.push({ s: seconds, mb: rssMb() })
  const failed = result.errors + result.timeouts + result.non2xx
  const summary = {
    mode: soak ? 'soak' : 'load',
    smoke,
    seconds,
    connections,
    latencyMs,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed,
    answersWithErrors: withErrors,
    qualysCalls: sim.calls.length,
    logins: sim.counters.logins,
    rssStartMb: rss[0]?.mb,
    rssEndMb: rss.at(-1)?.mb,
    rssMaxMb: Math.max(...rss.map((r) => r.mb)),
    rss
  }
  const date = new Date().toISOString().slice(0, 16).replace(':', '-')
  const md = `# ${summary.mode} ${date}

${connections} connections${soak ? ' at 200 requests/s' : ''} for ${seconds} s against /observe (2 observables each, a pool of 60), Qualys latency ${latencyMs} ms.

| requests | req/s | p50 ms | p99 ms | failed | answers with errors | Qualys calls | logins | RSS start → end (max) MB |
|---|---|---|---|---|---|---|---|---|
| ${summary.requests} | ${summary.rps.toFixed(0)} | ${summary.p50} | ${summary.p99} | ${failed} | ${withErrors} | ${summary.qualysCalls} | ${summary.logins} | ${summary.rssStartMb?.toFixed(1)} → ${summary.rssEndMb?.toFixed(1)} (${summary.rssMaxMb.toFixed(1)}) |
`
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, `${summary.mode}-${date}.json`), JSON.stringify(summary, null, 2) + '\n')
  writeFileSync(path.join(outDir, `${summary.mode}-${date}.md`), md)
  console.log(md)
  if (failed > 0) process.exitCode = 1
} finally {
  child.kill('SIGTERM')
  await sim.close()
}
