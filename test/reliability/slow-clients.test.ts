import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { bearer, build, DEMO, hsToken, withSimulator } from '../helper.js'

// Slow and idle clients over real sockets, with small bounds so the test is short: headers 1 s,
// whole request 2 s, keep-alive idle 1.5 s; Node checks every second. Qualys answers in 3 s,
// slower than every bound, and that answer must not be cut.
const BOUNDS = { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000', IDLE_TIMEOUT_MS: '1500' }
const SLACK = 1500 // the 1 s checking interval, and a loaded machine

interface Watched { closedAt: Promise<number>, text: () => string, socket: net.Socket }

function open (port: number, start: (socket: net.Socket) => void): Watched {
  const socket = net.connect(port, '127.0.0.1')
  const opened = Date.now()
  let text = ''
  socket.on('data', (d) => { text += String(d) })
  socket.on('error', () => {})
  socket.on('connect', () => start(socket))
  const closedAt = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)))
  return { closedAt, text: () => text, socket }
}

function trickle (socket: net.Socket, piece: string, everyMs: number) {
  const timer = setInterval(() => { if (socket.writable) socket.write(piece) }, everyMs)
  socket.on('close', () => clearInterval(timer))
}

const TIMEOUT_408 = /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*\r\n\r\n\{"code":408,"message":"Request Timeout","reason":"The request did not arrive in time\."\}$/

t.test('slow headers, slow bodies and idle connections are closed within their bounds; normal requests go on', async (t) => {
  const sim = await withSimulator(t, { latencyMs: 3000 })
  const { app } = await build(t, { API_URL: sim.url, QUALYS_DEADLINE_MS: '10000', ...BOUNDS })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const token = hsToken(DEMO)

  const slowHeaders = Array.from({ length: 20 }, () => open(port, (s) => {
    s.write('POST /refer/observables HTTP/1.1\r\nHost: relay\r\n')
    trickle(s, 'X-Slow: 1\r\n', 200)
  }))
  const slowBody = Array.from({ length: 10 }, () => open(port, (s) => {
    s.write(`POST /observe/observables HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n[`)
    trickle(s, ' ', 200)
  }))
  const slowBodyRefused = Array.from({ length: 10 }, () => open(port, (s) => {
    s.write('POST /observe/observables HTTP/1.1\r\nHost: relay\r\nContent-Length: 10000\r\n\r\n[')
    trickle(s, ' ', 200)
  }))
  const idle = Array.from({ length: 20 }, () => open(port, () => {}))
  const keptAlive = open(port, (s) => s.write('POST /version HTTP/1.1\r\nHost: relay\r\n\r\n'))

  // Normal requests keep answering, fast, during the attack; and a slow Qualys answer is not cut.
  const slowQualys = fetch(`http://127.0.0.1:${port}/observe/observables`, {
    method: 'POST', headers: bearer(token), body: JSON.stringify([{ type: 'mutex', value: 'MSFTHISTORY!' }])
  }).then(async (res) => ({ status: res.status, body: await res.json() as any }))
  const quick: number[] = []
  for (let i = 0; i < 10; i++) {
    const started = Date.now()
    const res = await fetch(`http://127.0.0.1:${port}/version`, { method: 'POST' })
    await res.json()
    quick.push(Date.now() - started)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.ok(Math.max(...quick) < 1000, `normal requests answered during the attack (slowest ${Math.max(...quick)} ms)`)

  const within = async (name: string, watched: Watched[], bound: number, answer?: RegExp) => {
    const times = await Promise.all(watched.map((w) => w.closedAt))
    t.ok(Math.max(...times) <= bound + SLACK, `${name}: all ${watched.length} closed by the relay, the last after ${Math.max(...times)} ms (bound ${bound} ms)`)
    if (answer !== undefined) t.ok(watched.every((w) => answer.test(w.text())), `${name}: each got ${answer}`)
  }
  await within('slow headers', slowHeaders, 1000, TIMEOUT_408)
  await within('idle before a first request', idle, 1000)
  await within('slow body', slowBody, 2000, TIMEOUT_408)
  await within('slow body after a refused token', slowBodyRefused, 2000, /^HTTP\/1\.1 200 OK[\s\S]*Authorization failed: Authorization header is missing/)
  await within('idle between keep-alive requests', [keptAlive], 1500, /^HTTP\/1\.1 200 OK[\s\S]*"version"/)

  const answer = await slowQualys
  t.equal(answer.status, 200)
  t.notOk(answer.body.errors, 'a 3 s Qualys answer, slower than every bound, is not cut')
  t.equal(answer.body.data.sightings.count, 2)
})
