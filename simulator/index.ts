import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { loadFixtures, type Fixtures } from './fixtures/index.js'
import { matches, ordinal, parse, QqlError, sorter, type Event } from './qql.js'

// A Qualys IOC (EDR) API simulator: POST /auth and GET /ioc/events over real HTTP, with latency,
// fault injection and counters. It imports nothing from the relay.

export type Fault =
  // headers may be built when the fault is served (e.g. a Retry-After date relative to that moment)
  | { status: number, headers?: Record<string, string> | (() => Record<string, string>), body?: string }
  | { hang: true } | { reset: true } | { invalidJson: true } | { cutBody: true }
  | { pass: true } // no fault for this call: lets a test aim at the Nth call

export interface SimCall {
  path: 'auth' | ApiPath
  user?: string
  token?: string
  filter?: string
  pageSize?: number
  pageNumber?: number
  state?: string
  sort?: string
  status: number
  at: number // ms since the simulator started, when the call arrived
}

// GET /ioc/events (a page of events), /ioc/events/count ({"count": n}, same filter and state) and
// /ioc/events/count/time-buckets (fromDate, toDate in epoch seconds, bucketCount, filter).
type ApiPath = 'events' | 'count' | 'buckets'
const API_PATHS: Record<string, ApiPath> = { '/ioc/events': 'events', '/ioc/events/count': 'count', '/ioc/events/count/time-buckets': 'buckets' }

export interface SimulatorOptions {
  accounts?: Record<string, string>
  fixtures?: Fixtures
  tenants?: Record<string, Fixtures> // per-user events: what a call returns depends on whose token it carries
  latencyMs?: number
  tokenTtlS?: number
  concurrencyLimitHeader?: number // sent as X-Concurrency-Limit-Limit
  // Qualys' API budget per user: X-RateLimit-Limit/-Remaining/-Window-Sec on every events
  // answer, and 429 with X-RateLimit-ToWait-Sec once it is spent.
  rateLimit?: { limit: number, windowSec: number }
  // A front end that refuses request targets longer than `bytes` (Netty-based gateways: 4,096),
  // with `status` (414 by default; some answer 400 or 431) and an HTML page, as qualys-api.md §2.6 says.
  targetLimit?: { bytes: number, status?: number }
  // Where the docs are silent, variants a tenant might play (the tenant check detects each):
  bucketAlignment?: 'epoch' | 'from' // time buckets on multiples of their width (documented) or cut from fromDate
  ignoreSort?: boolean // answers in storage order whatever `sort` says
  // Which spelling the concurrency header takes (qualys-api.md §2.6: both are documented).
  concurrencyHeaderName?: 'x-concurrency-limit-limit' | 'x-concurrencylimit-limit'
  host?: string
  port?: number
}

export interface Simulator {
  url: string
  latencyMs: number
  counters: { logins: number, events: number, inFlight: number, maxInFlight: number }
  // The same per Qualys user (an API call counts for the user whose token it carries).
  byUser: Record<string, { logins: number, events: number, inFlight: number, maxInFlight: number }>
  calls: SimCall[]
  targetLimit?: { bytes: number, status?: number } // may be changed between requests
  clock: () => number // ms since the simulator started: the time base of SimCall.at
  inject: (fault: Fault, count?: number, path?: 'auth' | 'events') => void // 'events': any GET API call
  // A fault chosen per events call (after the injected ones), e.g. every Active call fails.
  rule?: (call: SimCall) => Fault | undefined
  setFixtures: (fixtures: Fixtures) => void
  expireTokens: () => void
  reset: () => void
  close: () => Promise<void>
}

// Where the relay's pivot links land in demo mode: the search sits in the URL fragment.
const HUNTING_PAGE = `<!doctype html><meta charset="utf-8"><title>Qualys IOC hunting (simulated)</title>
<h1>Qualys IOC hunting — simulator</h1><p>A real tenant would run this search:</p><pre id="q"></pre>
<script>const m = /search=([^&]*)/.exec(location.hash); document.getElementById('q').textContent = m ? decodeURIComponent(m[1]) : '(none)'</script>`

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function readBody (req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

// A JWT-shaped token, like Qualys' (HS512, `exp` in seconds); its signature is random bytes.
function mintToken (user: string, ttlS: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return `${b64({ alg: 'HS512' })}.${b64({ sub: user, iss: 'qas', exp: now + ttlS, iat: now })}.${randomBytes(24).toString('base64url')}`
}

export async function startSimulator (opts: SimulatorOptions = {}): Promise<Simulator> {
  const accounts = opts.accounts ?? { demo: 'demo-password' }
  let fixtures = opts.fixtures ?? loadFixtures()
  const tokens = new Map<string, string>() // token → user
  const faults: Record<'auth' | 'events', Fault[]> = { auth: [], events: [] }
  const sockets = new Set<Socket>()
  const started = Date.now()

  const sim: Simulator = {
    url: '',
    latencyMs: opts.latencyMs ?? 0,
    counters: { logins: 0, events: 0, inFlight: 0, maxInFlight: 0 },
    byUser: {},
    calls: [],
    targetLimit: opts.targetLimit,
    clock: () => Date.now() - started,
    inject (fault, count = 1, path = 'events') {
      for (let i = 0; i < count; i++) faults[path].push(fault)
    },
    expireTokens () { tokens.clear() },
    setFixtures (next) { fixtures = next },
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

  const counterOf = (user: string) => (sim.byUser[user] ??= { logins: 0, events: 0, inFlight: 0, maxInFlight: 0 })

  // Answers with the injected fault; false when there is none to apply.
  function applyFault (fault: Fault | undefined, res: http.ServerResponse, call: SimCall): boolean {
    if (fault === undefined || 'pass' in fault) return false
    if ('hang' in fault) { call.status = 0; return true }
    if ('reset' in fault) { call.status = 0; res.socket?.destroy(); return true }
    if ('invalidJson' in fault) {
      call.status = 200
      res.writeHead(200, { 'content-type': 'application/json' }).end('[{"id": "F_broken", "type": ')
      return true
    }
    if ('cutBody' in fault) {
      call.status = 200
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' })
      res.write('[{"id": "F_cut", "type": "FILE"}, {"id": ')
      setTimeout(() => res.socket?.destroy(), 20)
      return true
    }
    call.status = fault.status
    const headers = typeof fault.headers === 'function' ? fault.headers() : fault.headers
    res.writeHead(fault.status, { 'content-type': 'text/plain', ...headers }).end(fault.body ?? '')
    return true
  }

  // Counts an events call against the user's budget and sets the rate-limit headers; true when
  // the budget is spent (the call is refused).
  const spent = new Map<string, number[]>()
  function budget (user: string, headers: Record<string, string>): boolean {
    const { limit, windowSec } = opts.rateLimit as { limit: number, windowSec: number }
    const now = Date.now()
    const calls = (spent.get(user) ?? []).filter((at) => at > now - windowSec * 1000)
    spent.set(user, calls)
    headers['x-ratelimit-limit'] = String(limit)
    headers['x-ratelimit-window-sec'] = String(windowSec)
    if (calls.length >= limit) {
      headers['x-ratelimit-remaining'] = '0'
      headers['x-ratelimit-towait-sec'] = String(Math.ceil(((calls[0] as number) + windowSec * 1000 - now) / 1000))
      return true
    }
    calls.push(now)
    headers['x-ratelimit-remaining'] = String(limit - calls.length)
    return false
  }

  async function auth (req: http.IncomingMessage, res: http.ServerResponse, call: SimCall) {
    const form = new URLSearchParams(await readBody(req))
    const user = form.get('username') ?? ''
    call.user = user
    sim.counters.logins++
    counterOf(user).logins++
    if (applyFault(faults.auth.shift(), res, call)) return
    if (user === '' || !form.has('password') || form.get('token') !== 'true') {
      call.status = 400
      return res.writeHead(400, { 'content-type': 'text/plain' }).end('username, password and token=true are required')
    }
    if (accounts[user] !== form.get('password')) {
      call.status = 401
      return res.writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ authentication_exceptions: ['InvalidCredentialsException'] }))
    }
    const token = mintToken(user, opts.tokenTtlS ?? 4 * 3600)
    tokens.set(token, user)
    call.status = 201
    res.writeHead(201, { 'content-type': 'text/plain;charset=UTF-8' }).end(token)
  }

  // The events matching a call, as every GET path selects them; false when answered already.
  function events (req: http.IncomingMessage, res: http.ServerResponse, url: URL, call: SimCall) {
    sim.counters.events++
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    call.token = token
    call.filter = url.searchParams.get('filter') ?? undefined
    call.state = url.searchParams.get('state') ?? undefined
    call.pageSize = Number(url.searchParams.get('pageSize') ?? 10)
    call.pageNumber = Number(url.searchParams.get('pageNumber') ?? 0)
    call.sort = url.searchParams.get('sort') ?? undefined
    if (applyFault(faults.events.shift() ?? sim.rule?.(call), res, call)) return
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (opts.concurrencyLimitHeader !== undefined) headers[opts.concurrencyHeaderName ?? 'x-concurrency-limit-limit'] = String(opts.concurrencyLimitHeader)
    if (token === undefined || !tokens.has(token)) {
      call.status = 401
      return res.writeHead(401, headers).end(JSON.stringify({ message: 'Invalid or expired token' }))
    }
    call.user = tokens.get(token)
    if (opts.rateLimit !== undefined && budget(call.user as string, headers)) {
      call.status = 429
      return res.writeHead(429, headers).end(JSON.stringify({ message: 'API rate limit exceeded' }))
    }
    if (!Number.isInteger(call.pageSize) || call.pageSize < 1 || !Number.isInteger(call.pageNumber) || call.pageNumber < 0) {
      call.status = 400
      return res.writeHead(400, headers).end(JSON.stringify({ message: 'invalid page' }))
    }
    const data = opts.tenants?.[call.user ?? ''] ?? fixtures
    let pool = call.state === 'true' ? data.active : data.historical
    try {
      if (call.filter !== undefined) {
        const query = parse(call.filter)
        pool = pool.filter((e) => matches(query, e))
      }
      if (call.sort !== undefined) {
        const order = sorter(call.sort) // a bad sort is still refused
        if (opts.ignoreSort !== true) pool = [...pool].sort(order)
      }
    } catch (err) {
      if (!(err instanceof QqlError)) throw err
      call.status = 400
      return res.writeHead(400, headers).end(JSON.stringify({ message: `Invalid QQL: ${err.message}` }))
    }
    if (call.path === 'count') {
      call.status = 200
      return res.writeHead(200, headers).end(JSON.stringify({ count: pool.length }))
    }
    if (call.path === 'buckets') return timeBuckets(res, url, call, headers, pool)
    const page = pool.slice(call.pageNumber * call.pageSize, (call.pageNumber + 1) * call.pageSize)
    call.status = 200
    res.writeHead(200, headers).end(JSON.stringify(page))
  }

  // Counts per time bucket as Qualys' documented sample answers (qualys-api.md §2.6): width =
  // (toDate − fromDate) / bucketCount, every key on a multiple of the width since the epoch, the
  // first bucket the one that holds fromDate, exactly bucketCount of them, keyed
  // `<ISO from>_<ISO to>`, counting only events inside [fromDate, toDate].
  function timeBuckets (res: http.ServerResponse, url: URL, call: SimCall, headers: Record<string, string>, pool: Event[]) {
    const from = Number(url.searchParams.get('fromDate')) * 1000
    const to = Number(url.searchParams.get('toDate')) * 1000
    const n = Number(url.searchParams.get('bucketCount'))
    if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to || !Number.isInteger(n) || n < 1 || n > 1000) {
      call.status = 400
      return res.writeHead(400, headers).end(JSON.stringify({ message: 'fromDate < toDate (epoch seconds) and bucketCount 1..1000 are required' }))
    }
    const width = (to - from) / n
    const first = opts.bucketAlignment === 'from' ? from : Math.floor(from / width) * width
    const times = pool.map((e) => ordinal('event.datetime', e.dateTime)).filter((t) => t >= from && t <= to)
    const answer: Record<string, number> = {}
    for (let i = 0; i < n; i++) {
      const start = first + i * width
      const end = start + width
      answer[`${new Date(start).toISOString()}_${new Date(end).toISOString()}`] = times.filter((t) => t >= start && t < end).length
    }
    call.status = 200
    res.writeHead(200, headers).end(JSON.stringify(answer))
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator')
    const path = req.method === 'POST' && url.pathname === '/auth'
      ? 'auth'
      : req.method === 'GET' ? API_PATHS[url.pathname] : undefined
    if (path === undefined && req.method === 'GET' && url.pathname === '/ioc/') {
      return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HUNTING_PAGE)
    }
    if (path === undefined) return res.writeHead(404).end('Not Found')
    const call: SimCall = { path, status: 0, at: Date.now() - started }
    sim.calls.push(call)
    const limit = sim.targetLimit
    if (limit !== undefined && Buffer.byteLength(req.url ?? '') > limit.bytes) {
      call.status = limit.status ?? 414
      call.filter = url.searchParams.get('filter') ?? undefined
      return res.writeHead(call.status, { 'content-type': 'text/html' })
        .end(`<html><head><title>${call.status} Request-URI Too Large</title></head><body><center><h1>${call.status} Request-URI Too Large</h1></center></body></html>`)
    }
    sim.counters.inFlight++
    sim.counters.maxInFlight = Math.max(sim.counters.maxInFlight, sim.counters.inFlight)
    res.on('close', () => { sim.counters.inFlight-- })
    const user = path === 'auth' ? undefined : tokens.get(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '')
    if (user !== undefined) {
      const mine = counterOf(user)
      mine.events++
      mine.inFlight++
      mine.maxInFlight = Math.max(mine.maxInFlight, mine.inFlight)
      res.on('close', () => { mine.inFlight-- })
    }
    sleep(sim.latencyMs)
      .then(() => path === 'auth' ? auth(req, res, call) : events(req, res, url, call))
      .catch(() => { if (!res.headersSent) res.writeHead(500).end('Internal server error') })
  })
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  sim.url = `http://${opts.host ?? '127.0.0.1'}:${port}`
  return sim
}
