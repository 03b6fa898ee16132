import { createHmac, generateKeyPairSync } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormatsModule from 'ajv-formats'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import app, { loggerRedaction, options } from '../app.js'
import { createSigner } from 'fast-jwt'
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator/index.js'
import { IndicatorSchema, JudgementSchema, RelationshipSchema, SightingSchema, VerdictSchema } from '../schemas/ctim.js'
import { BarChartDataSchema, DonutDataSchema, MarkdownDataSchema, MetricGroupDataSchema, TileSchema } from '../schemas/tiles.js'

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

export const SECRET_KEY = 'test-secret-key-0123456789abcdef'

export interface TestApp {
  app: FastifyInstance
  logs: string[]
}

interface Tap { teardown: (fn: () => unknown) => void, fail?: (message: string) => void }

// Routes whose answers hold CTIM documents: every answer any test receives from them is checked
// against the CTIM schemas as it is sent (an invalid document fails the test that caused it).
const CTIM_ROUTES = new Set(['/observe/observables', '/deliberate/observables'])

// Every log line is kept so tests can prove no secret reaches the log.
export const allLogs: string[] = []

// Every secret a test file hands the relay is registered here; when the file ends, none may
// appear in any log line it produced (a leak fails the file).
const secrets = new Set<string>([SECRET_KEY])
const simulators: Simulator[] = []
export const registerSecret = (secret: unknown) => {
  if (typeof secret === 'string' && secret.length >= 8) secrets.add(secret)
}
process.on('exit', () => {
  for (const sim of simulators) for (const call of sim.calls) registerSecret(call.token)
  const leaks = [...secrets].filter((secret) => allLogs.some((line) => line.includes(secret)))
  if (leaks.length > 0) {
    console.error(`secrets found in the relay's logs: ${leaks.map((l) => `${l.slice(0, 6)}…`).join(', ')}`)
    process.exitCode = 1
  }
})

export async function build (
  t: Tap,
  env: Record<string, string | undefined> = {},
  extra?: (fastify: FastifyInstance) => void
): Promise<TestApp> {
  const logs: string[] = []
  const stream = new Writable({
    write (chunk, _enc, cb) {
      logs.push(String(chunk))
      allLogs.push(String(chunk))
      cb()
    }
  })
  const fastify = Fastify({ ...options, logger: { level: 'trace', stream, redact: loggerRedaction } })
  // The overload guard (503 when the event loop lags) is off unless a test sets it: on a loaded
  // 2-core machine a parallel test job can stall the loop past its 1 s default and turn an
  // unrelated assertion into a 503 (the overload test sets its own bound).
  await fastify.register(fp(app), { env: { SECRET_KEY, LOG_LEVEL: 'trace', MAX_EVENT_LOOP_DELAY_MS: '0', ...env } })
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
  return { app: fastify, logs }
}

export { startSimulator, type Simulator } from '../simulator/index.js'

// HS256 tokens signed by the test itself with fast-jwt, not through the relay's code.
export function hsToken (payload: Record<string, unknown>, key = SECRET_KEY): string {
  const token = createSigner({ key, algorithm: 'HS256', noTimestamp: true })(payload)
  registerSecret(payload.pass)
  registerSecret(token)
  return token
}

export const DEMO = { user: 'demo', pass: 'demo-password' }

export async function withSimulator (t: Tap & { teardown: (fn: () => unknown) => void }, opts: SimulatorOptions = {}) {
  const sim = await startSimulator(opts)
  simulators.push(sim)
  for (const pass of Object.values(opts.accounts ?? { demo: 'demo-password' })) registerSecret(pass)
  t.teardown(() => sim.close())
  return sim
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export interface JwksServer {
  origin: string
  host: string // what a token's jwks_host claim says: 127.0.0.1:<port>
  requests: number
  kid: string
  privateKey: string
  publicKey: string
  sign: (payload: Record<string, unknown>, opts?: { kid?: string, key?: string }) => string
  close: () => Promise<void>
}

// A real local JWKS endpoint (GET /.well-known/jwks) with one RSA key, counting its requests;
// `delayMs` makes it slow, so that concurrent fetches overlap.
export async function startJwks (t: Tap, delayMs = 0): Promise<JwksServer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = 'test-key-1'
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }
  const server = http.createServer((req, res) => {
    jwks.requests++
    if (req.url !== '/.well-known/jwks') return res.writeHead(404).end()
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })), delayMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const jwks: JwksServer = {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests: 0,
    kid,
    privateKey: privatePem,
    publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (payload, opts = {}) => {
      const token = createSigner({ key: opts.key ?? privatePem, algorithm: 'RS256', kid: opts.kid ?? kid, noTimestamp: true })(payload)
      registerSecret(payload.pass)
      registerSecret(token)
      return token
    },
    close: () => new Promise((resolve) => server.close(() => resolve()))
  }
  t.teardown(() => jwks.close())
  return jwks
}

const ajv = addFormats(new Ajv2019({ allErrors: true, strict: false }))
for (const schema of [SightingSchema, IndicatorSchema, JudgementSchema, RelationshipSchema, VerdictSchema,
  TileSchema, MetricGroupDataSchema, DonutDataSchema, BarChartDataSchema, MarkdownDataSchema]) ajv.addSchema(schema)

// A tile's data must validate against the TypeBox schema of its tile type.
export function tileErrors (type: 'MetricGroupData' | 'DonutData' | 'BarChartData' | 'MarkdownData' | 'Tile', data: unknown): string[] {
  const validate = ajv.getSchema(type)
  return validate === undefined ? [`no schema ${type}`] : validate(data) === true ? [] : [ajv.errorsText(validate.errors)]
}

// Every CTIM document must validate against the relay's TypeBox schemas of the entity.
export function ctimErrors (data: Record<string, { docs: Array<{ type: string }> }> | undefined): string[] {
  const out: string[] = []
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return out
  for (const { docs } of Object.values(data ?? {})) {
    for (const doc of docs) {
      const id = doc.type.charAt(0).toUpperCase() + doc.type.slice(1)
      const validate = ajv.getSchema(id)
      if (validate === undefined) { out.push(`no schema for ${doc.type}`); continue }
      if (validate(doc) !== true) out.push(`${doc.type}: ${ajv.errorsText(validate.errors)}`)
    }
  }
  return out
}

// A hand-made HS256 token, for claims fast-jwt's signer refuses to produce (e.g. exp: "tomorrow").
export function rawHsToken (payload: unknown, header: unknown = { alg: 'HS256', typ: 'JWT' }, key = SECRET_KEY): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const input = `${b64(header)}.${b64(payload)}`
  const token = `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
  registerSecret(token)
  return token
}

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

// Replaces random (uuid4) transient ids by transient:<type>-<n>, numbered in order of first
// appearance; also reports ids that are not uuid4 or that two documents share.
export function normaliseIds (body: unknown): { body: any, problems: string[] } {
  const names = new Map<string, string>()
  const counters: Record<string, number> = {}
  const problems: string[] = []
  const text = JSON.stringify(body).replace(/transient:(sighting|judgement|relationship)-([0-9a-f-]{36})/g, (id, type: string, uuid: string) => {
    if (!UUID4.test(uuid)) problems.push(`${id} is not a uuid4`)
    let name = names.get(id)
    if (name === undefined) {
      name = `transient:${type}-${(counters[type] = (counters[type] ?? 0) + 1)}`
      names.set(id, name)
    }
    return name
  })
  const parsed = JSON.parse(text)
  for (const kind of ['sightings', 'judgements', 'relationships']) {
    const ids = (parsed.data?.[kind]?.docs ?? []).map((d: { id: string }) => d.id)
    if (new Set(ids).size !== ids.length) problems.push(`duplicate ${kind} ids`)
  }
  return { body: parsed, problems }
}

export interface Spawned {
  child: ChildProcess
  output: () => string
  waitFor: (pattern: RegExp, ms?: number) => Promise<RegExpExecArray>
  exited: Promise<number | null>
}

// Starts a TypeScript entry point (demo, token, server) as a real process, with tsx.
export function spawnTs (t: Tap, script: string, env: Record<string, string | undefined>, args: string[] = []): Spawned {
  return spawnNode(t, ['--import', 'tsx', script, ...args], { FASTIFY_AUTOLOAD_TYPESCRIPT: '1', ...env })
}

// Starts node with these arguments in the project's folder (e.g. the built relay, dist/server.js),
// its output collected; killed at teardown if still running.
export function spawnNode (t: Tap, nodeArgs: string[], env: Record<string, string | undefined>): Spawned {
  // No coverage from children: tsx transforms the sources differently from tap's loader, and the
  // mismatched maps would mark lines the in-process tests cover as uncovered.
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, _TAPJS_PROCESSINFO_COVERAGE_: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d) => { out += String(d) })
  child.stderr?.on('data', (d) => { out += String(d) })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, ms = 20000) => new Promise((resolve, reject) => {
      const started = Date.now()
      const check = () => {
        const m = pattern.exec(out)
        if (m !== null) return resolve(m)
        if (child.exitCode !== null || Date.now() - started > ms) return reject(new Error(`no ${pattern} in:\n${out}`))
        setTimeout(check, 50)
      }
      check()
    })
  }
}

export const ROOT = path.resolve(import.meta.dirname, '..')

// Replaces every start_time/end_time that falls within [from, to] (the request's own time span)
// by `marker`, so that a hand-written expectation can say "the request time".
export function markRequestTimes (body: unknown, from: number, to: number, marker: string): any {
  return JSON.parse(JSON.stringify(body), (key, value) => {
    if ((key === 'start_time' || key === 'end_time') && typeof value === 'string') {
      const ms = Date.parse(value)
      if (ms >= from && ms <= to) return marker
    }
    return value
  })
}
