import http from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { loadFixtures } from './fixtures/index.js'
import { rateLimiter } from './rate-limit.js'
import { handler } from './server.js'
import type { Fault, SimContext, Simulator, SimulatorOptions } from './types.js'

// A Qualys IOC (EDR) API simulator: POST /auth and GET /ioc/events (and its counts) over real
// HTTP, with latency, fault injection, the variants real tenants play, and counters. It imports
// nothing from the relay. One module per job: server (routing, counters), auth, events, counts,
// faults, rate-limit.

export type { Fault, SimCall, Simulator, SimulatorOptions } from './types.js'

const OTHER_CONSUMER = '(another consumer)'

export async function startSimulator (opts: SimulatorOptions = {}): Promise<Simulator> {
  let fixtures = opts.fixtures ?? loadFixtures()
  const tokens = new Map<string, string>() // token → user
  const faults: Record<'auth' | 'events', Fault[]> = { auth: [], events: [] }
  const sockets = new Set<Socket>()
  const started = Date.now()
  const server = opts.tls === undefined ? http.createServer() : https.createServer(opts.tls)

  const sim: Simulator = {
    url: '',
    latencyMs: opts.latencyMs ?? 0,
    counters: { logins: 0, events: 0, inFlight: 0, maxInFlight: 0 },
    byUser: {},
    calls: [],
    connections: 0,
    targetLimit: opts.targetLimit,
    clock: () => Date.now() - started,
    inject (fault, count = 1, path = 'events') {
      for (let i = 0; i < count; i++) faults[path].push(fault)
    },
    expireTokens () { tokens.clear() },
    setFixtures (next) { fixtures = next },
    spend (calls) {
      let allowed = 0
      for (let i = 0; i < calls; i++) if (ctx.budget?.spend(OTHER_CONSUMER, {}) !== true) allowed++
      return allowed
    },
    budgetLeft: () => ctx.budget?.left(OTHER_CONSUMER) ?? Infinity,
    reset () {
      sim.counters = { logins: 0, events: 0, inFlight: 0, maxInFlight: 0 }
      sim.byUser = {}
      sim.calls = []
      faults.auth = []
      faults.events = []
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  const ctx: SimContext = {
    sim,
    opts,
    tokens,
    faults,
    fixtures: () => fixtures,
    counterOf: (user) => (sim.byUser[user] ??= { logins: 0, events: 0, inFlight: 0, maxInFlight: 0 }),
    budget: opts.rateLimit === undefined ? undefined : rateLimiter(opts.rateLimit, started)
  }
  server.on('request', handler(ctx, started))
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  server.on(opts.tls === undefined ? 'connection' : 'secureConnection', () => { sim.connections++ })
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  sim.url = `${opts.tls === undefined ? 'http' : 'https'}://${opts.host ?? '127.0.0.1'}:${port}`
  return sim
}
