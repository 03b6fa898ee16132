import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { freePort } from '../scripts/free-port.js'

export interface RedisServer {
  url: string
  port: number
  kill: () => void // SIGKILL
  start: () => Promise<void> // again, on the same port
}

// A real redis-server (Debian's), started on a free port without persistence; killed at teardown.
export async function startRedis (t: { teardown: (fn: () => unknown) => void }, command: string, port?: number): Promise<RedisServer> {
  const p = port ?? await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(command, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const probe = new Redis(p, '127.0.0.1', { retryStrategy: () => 50, maxRetriesPerRequest: null })
    probe.on('error', () => {}) // refused until the server listens
    try { await probe.ping() } finally { probe.disconnect() }
  }
  await start()
  const redis = {
    url: `redis://127.0.0.1:${p}`,
    port: p,
    kill: () => { child?.kill('SIGKILL') },
    start
  }
  t.teardown(() => redis.kill())
  return redis
}
