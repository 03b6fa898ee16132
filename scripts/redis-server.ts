import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { freePort } from './free-port.js'

export interface RedisServer {
  url: string
  port: number
  kill: () => void // SIGKILL
  pause: () => void // SIGSTOP: the connections stay open, nothing answers
  resume: () => void // SIGCONT
  start: () => Promise<void> // again, on the same port
}

// A real redis-server (`command`: its path) on 127.0.0.1 and a free port, without persistence:
// for the tests and bench:cluster. Resolves once it answers PING.
export async function startRedisServer (command: string, port?: number): Promise<RedisServer> {
  const p = port ?? await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(command, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const probe = new Redis(p, '127.0.0.1', { retryStrategy: () => 50, maxRetriesPerRequest: null })
    probe.on('error', () => {}) // refused until the server listens
    try { await probe.ping() } finally { probe.disconnect() }
  }
  await start()
  return { url: `redis://127.0.0.1:${p}`, port: p, kill: () => { child?.kill('SIGKILL') }, pause: () => { child?.kill('SIGSTOP') }, resume: () => { child?.kill('SIGCONT') }, start }
}
