import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '../../scripts/free-port.js'

interface Tap { teardown: (fn: () => unknown) => void }

// A private test CA and a certificate it signed for 127.0.0.1 and localhost (openssl: Node cannot
// mint certificates). The CA is trusted by nothing unless a process is told of it.
export function testCa (t: Tap, openssl: string): { caFile: string, key: Buffer, cert: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-ca-'))
  const f = (name: string) => path.join(dir, name)
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'ignore' })
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Relay Test Corporate CA', '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'))
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  run('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f('server.pem'))
  return { caFile: f('ca.pem'), key: readFileSync(f('server.key')), cert: readFileSync(f('server.pem')) }
}

export interface Tinyproxy {
  port: number
  url: (auth?: string) => string // http://[auth@]127.0.0.1:port
  log: () => string
  connects: () => string[] // the CONNECT targets it was asked for, in order
  forwarded: () => string[] // the plain-http request targets it forwarded, in order
  stop: () => Promise<void>
  start: () => Promise<void> // again, on the same port
}

// Debian's tinyproxy on a free loopback port, in the foreground, logging every request.
export async function startTinyproxy (t: Tap, binary: string, opts: { basicAuth?: [string, string] } = {}): Promise<Tinyproxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-tinyproxy-'))
  const port = await freePort()
  const logFile = path.join(dir, 'tinyproxy.log')
  writeFileSync(path.join(dir, 'tinyproxy.conf'), [
    `Port ${port}`, 'Listen 127.0.0.1', 'Timeout 60', `LogFile "${logFile}"`, 'LogLevel Connect', 'MaxClients 200', 'Allow 127.0.0.1',
    ...(opts.basicAuth === undefined ? [] : [`BasicAuth ${opts.basicAuth.join(' ')}`])
  ].join('\n') + '\n')
  writeFileSync(logFile, '')
  let child: ChildProcess | undefined
  const log = () => readFileSync(logFile, 'utf8')
  const requests = () => [...log().matchAll(/Request \(file descriptor \d+\): (\S+) (\S+) HTTP/g)].map((m) => [m[1] as string, m[2] as string] as const)
  const proxy: Tinyproxy = {
    port,
    url: (auth) => `http://${auth === undefined ? '' : `${auth}@`}127.0.0.1:${port}`,
    log,
    connects: () => requests().filter(([method]) => method === 'CONNECT').map(([, target]) => target),
    forwarded: () => requests().filter(([method]) => method !== 'CONNECT').map(([, target]) => target),
    async start () {
      child = spawn(binary, ['-d', '-c', path.join(dir, 'tinyproxy.conf')], { stdio: 'ignore' })
      for (let i = 0; i < 100; i++) {
        const up = await new Promise<boolean>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) }).on('error', () => resolve(false))
        })
        if (up) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`tinyproxy did not listen on ${port}: ${log()}`)
    },
    async stop () {
      const c = child
      if (c === undefined || c.exitCode !== null) return
      await new Promise((resolve) => { c.on('exit', resolve); c.kill('SIGKILL') })
    }
  }
  t.teardown(() => proxy.stop())
  await proxy.start()
  return proxy
}

export type FakeBehaviour = { answer: number } | { hang: true } | { tunnel: true }

// An egress proxy that misbehaves as asked, for what tinyproxy will not play: it answers CONNECT
// with a status (407, 403, 502), never answers it, or tunnels (and can drop every open tunnel).
export async function fakeProxy (t: Tap, behaviour: FakeBehaviour) {
  const tunnels = new Set<net.Socket>()
  const seen: Array<{ target: string, auth?: string }> = []
  const server = http.createServer((_req, res) => { res.writeHead(501).end() })
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] })
    client.on('error', () => {})
    if ('hang' in behaviour) { tunnels.add(client); return }
    if ('answer' in behaviour) {
      const extra = behaviour.answer === 407 ? 'Proxy-Authenticate: Basic realm="corp"\r\n' : ''
      client.end(`HTTP/1.1 ${behaviour.answer} ${http.STATUS_CODES[behaviour.answer]}\r\n${extra}Content-Length: 0\r\n\r\n`)
      return
    }
    const [host, port] = (req.url ?? '').split(':')
    const upstream = net.connect(Number(port), host as string, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    tunnels.add(client)
    client.on('close', () => { tunnels.delete(client); upstream.destroy() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  t.teardown(() => {
    for (const s of tunnels) s.destroy()
    return new Promise((resolve) => server.close(resolve))
  })
  return {
    url: (auth?: string) => `http://${auth === undefined ? '' : `${auth}@`}127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    seen,
    dropTunnels: () => { for (const s of tunnels) s.destroy() }
  }
}
