// npm run slow-clients: the built relay, default timeouts, attacked by 1,000 connections that
// trickle a header line every 5 s, 200 that declare a 10 KB body and send a byte every 5 s, and
// 200 that send nothing, while a normal request is timed every second. Reports when the relay
// closed each kind (goal: all within 75 s) and the normal requests' latency.
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { request } from 'undici'
import { freePort } from '../scripts/free-port.js'
import { relayUp } from './common.js'

const smoke = process.argv.includes('--smoke')
const N = smoke ? { headers: 20, body: 5, idle: 5, every: 200, limit: 15_000 } : { headers: 1000, body: 200, idle: 200, every: 5000, limit: 75_000 }
const port = await freePort()
const env = { ...process.env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SECRET_KEY: 'slow-clients-0123456789abcdef0123' }
if (smoke) Object.assign(env, { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000', IDLE_TIMEOUT_MS: '1500' })
const relay = spawn(process.execPath, smoke ? ['--import', 'tsx', 'server.ts'] : ['dist/server.js'],
  { cwd: path.join(import.meta.dirname, '..'), env: smoke ? { ...env, FASTIFY_AUTOLOAD_TYPESCRIPT: '1' } : env, stdio: 'ignore' })
const url = `http://127.0.0.1:${port}`
await relayUp(url)

const started = Date.now()
function attack (kind: string, n: number, start: (s: net.Socket) => void) {
  return Array.from({ length: n }, () => new Promise<{ kind: string, closedAfterMs: number, byRelay: boolean }>((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let timer: NodeJS.Timeout | undefined
    socket.on('connect', () => start(socket))
    socket.on('error', () => {})
    socket.resume() // read what the relay sends (its 408, its FIN): a paused socket never sees it close
    socket.on('close', () => { clearInterval(timer); resolve({ kind, closedAfterMs: Date.now() - started, byRelay: Date.now() - started < N.limit }) })
    socket.setTimeout(N.limit, () => socket.destroy()) // the attacker gives up: not closed by the relay
    const trickle = (piece: string) => { timer = setInterval(() => { if (socket.writable) socket.write(piece) }, N.every) }
    ;(socket as net.Socket & { trickle?: typeof trickle }).trickle = trickle
  }))
}
const drip = (s: net.Socket, piece: string) => (s as net.Socket & { trickle: (p: string) => void }).trickle(piece)
const all = [
  ...attack('slow headers', N.headers, (s) => { s.write('POST /refer/observables HTTP/1.1\r\nHost: relay\r\n'); drip(s, 'X-Slow: 1\r\n') }),
  ...attack('slow body', N.body, (s) => { s.write('POST /observe/observables HTTP/1.1\r\nHost: relay\r\nContent-Length: 10240\r\n\r\n['); drip(s, ' ') }),
  ...attack('idle', N.idle, () => {})
]
const normal: number[] = []
const state = { done: false }
const probing = (async () => {
  while (!state.done) {
    const t0 = performance.now()
    await (await request(`${url}/version`, { method: 'POST' })).body.dump()
    normal.push(performance.now() - t0)
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
})()
const results = await Promise.all(all)
state.done = true
await probing
relay.kill('SIGTERM')

const byKind = Object.fromEntries(['slow headers', 'slow body', 'idle'].map((kind) => {
  const mine = results.filter((r) => r.kind === kind)
  return [kind, { connections: mine.length, closedByRelay: mine.filter((r) => r.byRelay).length, lastClosedAfterMs: Math.max(...mine.map((r) => r.closedAfterMs)) }]
}))
const sorted = [...normal].sort((a, b) => a - b)
const report = { date: new Date().toISOString(), smoke, byKind, normalRequests: { count: normal.length, medianMs: sorted[Math.floor(sorted.length / 2)], maxMs: sorted.at(-1) } }
console.log(JSON.stringify(report, null, 2))
const out = process.env.BENCH_OUT ?? path.join(import.meta.dirname, 'results')
mkdirSync(out, { recursive: true })
writeFileSync(path.join(out, `slow-clients-${report.date.slice(0, 16).replace(':', '-')}.json`), JSON.stringify(report, null, 2) + '\n')
const ok = Object.values(byKind).every((k) => k.closedByRelay === k.connections) && (report.normalRequests.maxMs ?? Infinity) < 1000
process.exit(ok ? 0 : 1)
