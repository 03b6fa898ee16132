import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import app, { loggerRedaction, serverOptions } from '../../app.js'
import { startSimulator, type SimulatorOptions } from '../../simulator/index.js'
import { ctimErrors } from './ctim.js'
import { allLogs, registerSecret, SECRET_KEY, simulators } from './secrets.js'

export interface TestApp {
  app: FastifyInstance
  logs: string[]
}

interface Tap { teardown: (fn: () => unknown) => void, fail?: (message: string) => void }

// Routes whose answers hold CTIM documents: every answer any test receives from them is checked
// against the CTIM schemas as it is sent (an invalid document fails the test that caused it).
const CTIM_ROUTES = new Set(['/observe/observables', '/deliberate/observables'])

export async function build (
  t: Tap,
  env: Record<string, string | undefined> = {},
  extra?: (fastify: FastifyInstance) => void,
  compiled?: string // where the build's compiled schemas are (none from the sources: run-time compilers)
): Promise<TestApp & { compilers: ReturnType<typeof serverOptions>['compilers'] }> {
  const logs: string[] = []
  const stream = new Writable({
    write (chunk, _enc, cb) {
      logs.push(String(chunk))
      allLogs.push(String(chunk))
      cb()
    }
  })
  const { options, compilers } = serverOptions(compiled)
  const fastify = Fastify({ ...options, logger: { level: 'trace', stream, redact: loggerRedaction } })
  // The overload guard (503 when the event loop lags) is off unless a test sets it: on a loaded
  // 2-core machine a parallel test job can stall the loop past its 1 s default and turn an
  // unrelated assertion into a 503 (the overload test sets its own bound).
  await fastify.register(fp(app), { env: { SECRET_KEY, LOG_LEVEL: 'trace', MAX_EVENT_LOOP_DELAY_MS: '0', ...env }, compilers })
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (!CTIM_ROUTES.has(request.routeOptions.url ?? '') || typeof payload !== 'string') return payload
    // A 5xx here is the serializer (or a bug) refusing an answer: as much a failure as bad CTIM.
    const problems = reply.statusCode >= 500 ? [`HTTP ${reply.statusCode}: ${payload.slice(0, 200)}`] : ctimErrors(JSON.parse(payload).data)
    if (problems.length > 0) {
      const message = `invalid CTIM in an answer of ${request.routeOptions.url}: ${problems.slice(0, 5).join('; ')}`
      if (t.fail !== undefined) t.fail(message)
      else throw new Error(message)
    }
    return payload
  })
  if (extra !== undefined) fastify.register(async (f) => extra(f))
  await fastify.ready()
  t.teardown(() => fastify.close())
  return { app: fastify, logs, compilers }
}

export async function withSimulator (t: Tap & { teardown: (fn: () => unknown) => void }, opts: SimulatorOptions = {}) {
  const sim = await startSimulator(opts)
  simulators.push(sim)
  for (const pass of Object.values(opts.accounts ?? { demo: 'demo-password' })) registerSecret(pass)
  t.teardown(() => sim.close())
  return sim
}
