import type http from 'node:http'
import { timeBuckets } from './counts.js'
import { applyFault } from './faults.js'
import { matches, parse, QqlError, sorter } from './qql.js'
import type { SimCall, SimContext } from './types.js'

// The events matching a call, as every GET path selects them; false when answered already.
export function events (ctx: SimContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL, call: SimCall) {
  const { sim, opts, tokens, faults } = ctx
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
  if (ctx.budget?.spend(call.user as string, headers) === true) {
    call.status = 429
    return res.writeHead(429, headers).end(JSON.stringify({ message: 'API rate limit exceeded' }))
  }
  if (!Number.isInteger(call.pageSize) || call.pageSize < 1 || !Number.isInteger(call.pageNumber) || call.pageNumber < 0) {
    call.status = 400
    return res.writeHead(400, headers).end(JSON.stringify({ message: 'invalid page' }))
  }
  const data = opts.tenants?.[call.user ?? ''] ?? ctx.fixtures()
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
  if (call.path === 'buckets') return timeBuckets(opts, res, url, call, headers, pool)
  const page = pool.slice(call.pageNumber * call.pageSize, (call.pageNumber + 1) * call.pageSize)
  call.status = 200
  res.writeHead(200, headers).end(JSON.stringify(page))
}
