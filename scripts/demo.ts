// Demo mode: the built-in Qualys IOC simulator and the relay pointed at it, in shared-secret
// mode with a secret made for this run. Explicit only: `npm start` never does this.
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import closeWithGrace from 'close-with-grace'
import { createSigner } from 'fast-jwt'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import app, { loggerRedaction, serverOptions } from '../app.js'
import { startSimulator } from '../simulator/index.js'
import { loadFixtures } from '../simulator/fixtures/index.js'

const port = Number(process.env.PORT ?? 9090)
const qualysPort = Number(process.env.DEMO_QUALYS_PORT ?? 9091)
const host = process.env.DEMO_HOST ?? '127.0.0.1'
const account = { user: 'demo', pass: 'demo-password' }

const sim = await startSimulator({
  port: qualysPort,
  fixtures: loadFixtures(Date.now()), // times within the last 29 days: the dashboard tiles show data
  latencyMs: Number(process.env.DEMO_LATENCY_MS ?? 20),
  accounts: { [account.user]: account.pass },
  rateLimit: { limit: 300, windowSec: 3600 } // Qualys' documented default subscription: /health shows it
})
const secret = randomBytes(32).toString('hex')
const { options, compilers } = serverOptions()
const relay = Fastify({
  ...options,
  logger: {
    level: process.env.LOG_LEVEL ?? 'info',
    redact: loggerRedaction,
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname' } } } : {})
  }
})
await relay.register(fp(app), {
  env: { ...process.env, API_URL: sim.url, PLATFORM_URL: sim.url, SECRET_KEY: secret, PORT: String(port), HOST: host },
  compilers
})

closeWithGrace({ delay: 5000 }, async () => {
  await relay.close()
  await sim.close()
})

await relay.listen({ port, host })
const url = `http://${host}:${(relay.server.address() as AddressInfo).port}`
const jwt = createSigner({ key: secret, algorithm: 'HS256', expiresIn: 24 * 3600 * 1000 })(account)

console.log(`
Qualys IOC relay — DEMO MODE (simulated Qualys IOC at ${sim.url}, not a real tenant)

  API docs (Swagger UI): ${url}/docs
  A JWT for this run (valid 24 h, signed with a secret made for this run):

URL=${url}
JWT=${jwt}

Paste into another terminal (httpie):

  export URL=${url} JWT=${jwt}
  examples/health.sh     # http POST "$URL/health" "Authorization:Bearer $JWT"
  examples/observe.sh    # http POST "$URL/observe/observables" "Authorization:Bearer $JWT" < examples/observables.json
  examples/refer.sh      # http POST "$URL/refer/observables" "Authorization:Bearer $JWT" < examples/observables.json
  examples/deliberate.sh # http POST "$URL/deliberate/observables" "Authorization:Bearer $JWT" < examples/observables.json
  http --ignore-stdin POST "$URL/tiles/tile-data" "Authorization:Bearer $JWT" tile_id=qualys-ioc-event-summary period=last_7_days

Ctrl-C stops the relay and the simulator.
`)
