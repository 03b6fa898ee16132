import { startRedisServer, type RedisServer } from '../scripts/redis-server.js'

// A real redis-server for a test (scripts/redis-server.ts), killed at teardown.
export async function startRedis (t: { teardown: (fn: () => unknown) => void }, command: string, port?: number): Promise<RedisServer> {
  const redis = await startRedisServer(command, port)
  t.teardown(() => redis.kill())
  return redis
}
