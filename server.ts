import './lib/require-node.js' // first: refuses an unsupported Node.js before anything loads
import { existsSync } from 'node:fs'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import closeWithGrace from 'close-with-grace'
import app, { loggerRedaction, serverOptions } from './app.js'

if (existsSync('.env')) process.loadEnvFile('.env')

const grace = Number(process.env.SHUTDOWN_GRACE_MS ?? 10000)
if (!Number.isInteger(grace) || grace < 0) {
  console.error('qualys-ioc-relay: configuration error: SHUTDOWN_GRACE_MS must be a whole number of milliseconds')
  process.exit(1)
}
const level = process.env.LOG_LEVEL ?? 'info'
const { options, compilers } = serverOptions()
const server = Fastify({
  ...options,
  logger: {
    level,
    redact: loggerRedaction,
    ...(process.stdout.isTTY && process.env.NODE_ENV !== 'production'
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {})
  }
})

server.register(fp(app), { compilers })

closeWithGrace({ delay: grace }, async ({ err, signal }) => {
  if (err !== undefined) server.log.error({ err }, 'closing after an error')
  else server.log.info({ signal }, 'closing: finishing requests in flight')
  await server.close()
})

try {
  await server.ready()
} catch (err) {
  // A bad configuration: one clear line naming the variable, no stack trace.
  console.error(`qualys-ioc-relay: configuration error: ${(err as Error).message}`)
  process.exit(1)
}

await server.listen({ port: server.config.PORT, host: server.config.HOST })
