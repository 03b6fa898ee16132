import type http from 'node:http'
import { auth } from './auth.js'
import { events } from './events.js'
import type { ApiPath, SimCall, SimContext } from './types.js'

// GET /ioc/events (a page of events), /ioc/events/count ({"count": n}, same filter and state) and
// /ioc/events/count/time-buckets (fromDate, toDate in epoch seconds, bucketCount, filter).
const API_PATHS: Record<string, ApiPath> = { '/ioc/events': 'events', '/ioc/events/count': 'count', '/ioc/events/count/time-buckets': 'buckets' }

// Where the relay's pivot links land in demo mode: the search sits in the URL fragment.
const HUNTING_PAGE = `<!doctype html><meta charset="utf-8"><title>Qualys IOC hunting (simulated)</title>
<h1>Qualys IOC hunting — simulator</h1><p>A real tenant would run this search:</p><pre id="q"></pre>
<script>const m = /search=([^&]*)/.exec(location.hash); document.getElementById('q').textContent = m ? decodeURIComponent(m[1]) : '(none)'</script>`

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// A front end's request-line limit (targetLimit), before Qualys sees the call.
function refusedTarget ({ sim }: SimContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL, call: SimCall): boolean {
  const limit = sim.targetLimit
  if (limit === undefined || Buffer.byteLength(req.url ?? '') <= limit.bytes) return false
  call.status = limit.status ?? 414
  call.filter = url.searchParams.get('filter') ?? undefined
  res.writeHead(call.status, { 'content-type': 'text/html' })
    .end(`<html><head><title>${call.status} Request-URI Too Large</title></head><body><center><h1>${call.status} Request-URI Too Large</h1></center></body></html>`)
  return true
}

// Calls in flight, in all and per user (an API call counts for the user whose token it carries).
function count (ctx: SimContext, req: http.IncomingMessage, res: http.ServerResponse, path: SimCall['path']) {
  const { sim } = ctx
  sim.counters.inFlight++
  sim.counters.maxInFlight = Math.max(sim.counters.maxInFlight, sim.counters.inFlight)
  res.on('close', () => { sim.counters.inFlight-- })
  const user = path === 'auth' ? undefined : ctx.tokens.get(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '')
  if (user === undefined) return
  const mine = ctx.counterOf(user)
  mine.events++
  mine.inFlight++
  mine.maxInFlight = Math.max(mine.maxInFlight, mine.inFlight)
  res.on('close', () => { mine.inFlight-- })
}

export function handler (ctx: SimContext, started: number) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://simulator')
    if (req.method === 'GET' && url.pathname === '/ioc/') {
      return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HUNTING_PAGE)
    }
    const path = req.method === 'POST' && url.pathname === '/auth'
      ? 'auth'
      : req.method === 'GET' ? API_PATHS[url.pathname] : undefined
    // Every request is recorded (a test may assert that only GETs and the login were made).
    const call: SimCall = { method: req.method ?? '', target: req.url ?? '', path: path ?? 'other', status: 0, at: Date.now() - started }
    ctx.sim.calls.push(call)
    if (path === undefined) {
      call.status = 404
      return res.writeHead(404).end('Not Found')
    }
    if (refusedTarget(ctx, req, res, url, call)) return
    count(ctx, req, res, path)
    sleep(ctx.sim.latencyMs)
      .then(() => path === 'auth' ? auth(ctx, req, res, call) : events(ctx, req, res, url, call))
      .catch(() => { if (!res.headersSent) res.writeHead(500).end('Internal server error') })
  }
}
