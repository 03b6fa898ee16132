import type { AddressInfo } from 'node:net'
import t from 'tap'
import { bearer, build, DEMO, hsToken, SECRET_KEY, spawnTs } from '../helper.js'
import { freePort } from '../../scripts/free-port.js'

const TOO_LARGE = { code: 413, message: 'Payload Too Large', reason: 'The request body is larger than the relay accepts.' }
const SIX_MB = 6 * 1024 * 1024

// The client is still sending when the relay knows the body is too large: the relay reads the
// rest (bounded) before it answers, so every client sees the 413 rather than EPIPE or a reset.
// The relay runs as its own process (server.ts): in the client's process the race never shows.
t.test('20 sequential 6 MB uploads over real HTTP each see the 413', async (t) => {
  const port = await freePort()
  const relay = spawnTs(t, 'server.ts', { SECRET_KEY, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production' })
  const url = `http://127.0.0.1:${port}/observe/observables`
  await waitUntilUp(`http://127.0.0.1:${port}/version`, relay.exited)
  const headers = { ...bearer(hsToken(DEMO)), 'content-type': 'application/json' }
  const body = Buffer.alloc(SIX_MB, 'a')
  const seen: string[] = []
  for (let i = 0; i < 20; i++) {
    try {
      const res = await fetch(url, { method: 'POST', headers, body })
      const answer = await res.json()
      seen.push(res.status === 413 && JSON.stringify(answer) === JSON.stringify(TOO_LARGE) ? '413' : `${res.status} ${JSON.stringify(answer)}`)
    } catch (err) {
      seen.push(`failed: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`)
    }
  }
  t.same(seen, Array(20).fill('413'), 'every upload answered 413 in the framework shape')
})

async function waitUntilUp (url: string, exited: Promise<unknown>) {
  let gone = false
  exited.then(() => { gone = true }, () => {})
  for (;;) {
    try {
      if ((await fetch(url, { method: 'POST' })).ok) return
    } catch {}
    if (gone) throw new Error('the relay exited')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

t.test('a chunked (no Content-Length) 6 MB upload sees the 413 too', async (t) => {
  const { app } = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/observe/observables`
  const chunk = new Uint8Array(64 * 1024).fill(97)
  for (let i = 0; i < 3; i++) {
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull (controller) {
        if (sent >= SIX_MB) return controller.close()
        sent += chunk.length
        controller.enqueue(chunk)
      }
    })
    const res = await fetch(url, { method: 'POST', headers: bearer(hsToken(DEMO)), body: stream, duplex: 'half' } as RequestInit)
    t.equal(res.status, 413)
    t.same(await res.json(), TOO_LARGE)
  }
})

t.test('a body over the drain bound is refused at once', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({
    method: 'POST',
    url: '/observe/observables',
    headers: { ...bearer(hsToken(DEMO)), 'content-length': String(64 * 1024 * 1024) },
    payload: 'x'
  })
  t.equal(res.statusCode, 413)
  t.same(res.json(), TOO_LARGE)
})
