import type { Dispatcher } from 'undici'
import { scrub } from '../lib/secrets.js'
import { parseReserve, reserveCalls } from '../plugins/app/qualys/budget.js'
import { ConfigSchema } from '../schemas/config.js'
import {
  bucketsQuery, countQuery, eventsQuery, get, HEADER, header, isOk, login, PATH, REFUSALS, type Answer, type ApiPath
} from '../lib/qualys/protocol.js'

// The tenant check (SPEC §8): what an operator's own Qualys tenant does where the documentation
// is silent, read-only and within a small number of calls, and the relay settings that follow.
// It speaks Qualys through the relay's own protocol module (lib/qualys/protocol.ts):
// the same login, queries, headers and refusal statuses. Nothing it prints holds the password
// or the token.

export interface CheckOptions { apiUrl: string, user: string, password: string, dispatcher?: Dispatcher, now?: Date }
export interface CheckRow { check: string, result: string, ok: boolean }
export interface CheckReport { rows: CheckRow[], settings: Record<string, string>, calls: number, ok: boolean }

const TARGETS = [2000, 4000, 8000, 16000] // request-target lengths probed, shortest first
const DUMMY = (i: number) => `file.hash.sha256: "${i.toString(16).padStart(64, '0')}"` // matches nothing
const TIMEOUT_MS = 20_000

interface Probe {
  opts: CheckOptions
  api: string
  token: string
  calls: number
  rows: CheckRow[]
  settings: Record<string, string>
  now: Date
  month: string // the last 30 days, as a QQL time filter
}

const add = (p: Probe, check: string, result: string, ok = true) => { p.rows.push({ check, result, ok }) }
const clean = (p: Probe, text: string) => scrub(text, [p.opts.password, p.token]).replace(/\s+/g, ' ').trim().slice(0, 120)
const parsed = (text: string): unknown => { try { return JSON.parse(text) } catch { return undefined } }

async function ask (p: Probe, path: ApiPath, query: string): Promise<Answer & { length: number }> {
  p.calls++
  return { ...await get(p.opts.dispatcher, `${p.api}${path}?${query}`, p.token, AbortSignal.timeout(TIMEOUT_MS)), length: path.length + 1 + query.length }
}

// 1. Login (POST /auth): the relay cannot work without it.
async function signIn (p: Probe): Promise<boolean> {
  p.calls++
  const answer = await login(p.opts.dispatcher, p.api, p.opts.user, p.opts.password, AbortSignal.timeout(TIMEOUT_MS))
  if (!isOk(answer.status)) {
    add(p, 'login (POST /auth)', `refused: HTTP ${answer.status} ${clean(p, answer.text)}`, false)
    return false
  }
  p.token = answer.text.trim()
  add(p, 'login (POST /auth)', `HTTP ${answer.status}, a token`)
  return true
}

// 2. The events call the relay makes, and the headers it learns from: the cap on calls in
// flight, and the subscription's budget (the reserve the relay keeps for investigations).
async function events (p: Probe) {
  const first = await ask(p, PATH.events, eventsQuery({ pageSize: 1, state: 'true' }))
  const ok = first.status === 200 || first.status === 204
  add(p, 'events (GET /ioc/events, state=true, sort)', ok ? `HTTP ${first.status}` : `HTTP ${first.status} ${clean(p, first.text)}`, ok)
  const spelling = HEADER.concurrency.find((name) => header(first.headers, name) !== undefined)
  add(p, 'concurrency header', spelling === undefined ? 'not sent (Qualys documents 2 by default)' : `${spelling}: ${header(first.headers, spelling)}`)
  p.settings.QUALYS_CONCURRENCY = String(first.seen?.concurrency ?? 2)
  const rate = [HEADER.limit, HEADER.remaining, HEADER.window].filter((name) => header(first.headers, name) !== undefined)
  add(p, 'rate-limit headers', rate.length === 0 ? 'not sent' : rate.map((name) => `${name}: ${header(first.headers, name)}`).join(', '))
  const budget = first.seen?.budget
  if (budget !== undefined) {
    // The relay's default reserve as a number of calls, by the relay's own rule: what tiles and
    // health leave to investigations.
    const reserve = reserveCalls(parseReserve(ConfigSchema.properties.QUALYS_BUDGET_RESERVE.default), budget.limit)
    const window = budget.windowSec === undefined ? 'an unstated window' : `${budget.windowSec} s`
    add(p, 'API budget', `${budget.limit} calls per ${window}, ${budget.remaining} left now; tiles and health will leave ${reserve} to investigations`)
    p.settings.QUALYS_BUDGET_RESERVE = String(reserve)
  }
}

// 3. Newest first: the order that makes batched and one-by-one answers the same.
async function newestFirst (p: Probe) {
  const recent = await ask(p, PATH.events, eventsQuery({ filter: p.month, pageSize: 10, state: 'false' }))
  const list = parsed(recent.text)
  const times = (Array.isArray(list) ? list as Array<{ dateTime?: unknown }> : [])
    .map((e) => typeof e.dateTime === 'string' ? Date.parse(e.dateTime.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : NaN).filter((t) => !Number.isNaN(t))
  const sorted = times.every((t, i) => i === 0 || t <= (times[i - 1] as number))
  if (recent.status >= 300) add(p, 'sort newest first', `HTTP ${recent.status} ${clean(p, recent.text)}`, false)
  else if (times.length < 2) add(p, 'sort newest first', `accepted; too few events in 30 days to see the order (${times.length})`)
  else add(p, 'sort newest first', sorted ? `yes (${times.length} events)` : 'NO: events came back out of order', sorted)
  if (times.length >= 2 && !sorted) p.settings.QUALYS_BATCH = 'off'
}

// 4. The count endpoint (tiles), and whether leaving `state` out means state=false.
async function counts (p: Probe) {
  const counted = await Promise.all([undefined, 'false' as const].map((state) => ask(p, PATH.count, countQuery(p.month, state))))
  const values = counted.map((c) => (parsed(c.text) as { count?: unknown } | undefined)?.count)
  if (counted.some((c) => c.status !== 200) || values.some((c) => typeof c !== 'number')) {
    const bad = counted.find((c) => c.status !== 200) ?? counted[0]
    add(p, 'count (GET /ioc/events/count)', `HTTP ${bad?.status} ${clean(p, bad?.text ?? '')}`, false)
    return
  }
  add(p, 'count (GET /ioc/events/count)', `${values[1]} events in 30 days (state=false)`)
  add(p, 'state left out vs state=false', values[0] === values[1] ? 'the same count' : `different: ${values[0]} without state, ${values[1]} with state=false (the relay sends state=false for tiles)`)
}

// 5. Time buckets: on multiples of their width since the epoch (the docs' sample), from fromDate,
// or on a grid of the tenant's own?
async function buckets (p: Probe) {
  const width = 3600
  const from = Math.floor(p.now.getTime() / 1000) - 5 * width - 1234 // deliberately not on a multiple
  const res = await ask(p, PATH.buckets, bucketsQuery(from, from + 5 * width, 5))
  const keys = Object.keys((parsed(res.text) ?? {}) as object).map((k) => Date.parse(k.split('_')[0] ?? '') / 1000).sort((a, b) => a - b)
  if (res.status !== 200 || keys.length === 0 || keys.some(Number.isNaN)) add(p, 'time buckets', `HTTP ${res.status} ${clean(p, res.text)}`, false)
  else if (keys[0] === Math.floor(from / width) * width) add(p, 'time buckets', 'aligned to the epoch, as documented (the relay asks aligned windows)')
  else if (keys[0] === from) add(p, 'time buckets', 'cut from fromDate (the relay asks aligned windows: either works)')
  else if (keys.every((k, i) => i === 0 || k - (keys[i - 1] as number) === width) && (keys[0] as number) >= from - width && (keys[0] as number) < from + width) {
    // Asked an aligned window, such a tenant's buckets start the same time into every bar.
    add(p, 'time buckets', `on a grid of the tenant's own, ${((keys[0] as number) % width + width) % width} s after the multiples of their width (the relay places each bucket on the bar that holds its start: it copes)`)
  } else add(p, 'time buckets', `first key ${new Date((keys[0] as number) * 1000).toISOString()} for fromDate ${new Date(from * 1000).toISOString()}: unexpected, the over-time tile may misplace counts`, false)
}

// 6. The longest request target Qualys (and what stands before it) accepts for a batched query.
async function longestTarget (p: Probe) {
  let longest = 0
  for (const target of TARGETS) {
    const terms: string[] = []
    const query = () => eventsQuery({ filter: terms.join(' or '), pageSize: 1000, state: 'true' })
    while (PATH.events.length + 1 + query().length < target - 120) terms.push(DUMMY(terms.length))
    const probe = await ask(p, PATH.events, query())
    if (probe.status === 200 || probe.status === 204) longest = probe.length
    else if (REFUSALS.has(probe.status)) break
    else { add(p, 'longest request target', `HTTP ${probe.status} at ${probe.length} bytes: ${clean(p, probe.text)}`, false); return }
  }
  if (longest === 0) {
    add(p, 'longest request target', `under ${TARGETS[0]} bytes: batching refused`, false)
    p.settings.QUALYS_BATCH = 'off'
    return
  }
  add(p, 'longest request target', `${longest} bytes accepted (pageSize=1000 too)${longest >= (TARGETS.at(-1) as number) - 200 ? ', the longest probed' : ', the next probe refused'}`)
  p.settings.QUALYS_MAX_URL_BYTES = String(Math.min(8000, Math.max(1000, Math.floor(longest / 100) * 100)))
}

export async function checkTenant (opts: CheckOptions): Promise<CheckReport> {
  const now = opts.now ?? new Date()
  const month = `event.datetime:["${new Date(now.getTime() - 30 * 86_400_000).toISOString()}".."${now.toISOString()}"]`
  const p: Probe = { opts, api: opts.apiUrl.replace(/\/+$/, ''), token: '', calls: 0, rows: [], settings: {}, now, month }
  if (await signIn(p)) {
    for (const step of [events, newestFirst, counts, buckets, longestTarget]) await step(p)
  }
  return { rows: p.rows, settings: p.settings, calls: p.calls, ok: p.rows.every((r) => r.ok) }
}

export function formatReport (report: CheckReport, apiUrl: string): string {
  const width = Math.max(...report.rows.map((r) => r.check.length))
  return [
    `Qualys tenant check — ${new URL(apiUrl).origin} — ${report.calls} calls, read-only`,
    '',
    ...report.rows.map((r) => `${r.ok ? 'ok  ' : 'FAIL'}  ${r.check.padEnd(width)}  ${r.result}`),
    '',
    'Settings for the relay:',
    ...Object.entries(report.settings).map(([k, v]) => `  ${k}=${v}`),
    '',
    report.ok ? 'The tenant does everything the relay needs.' : 'The tenant refuses something the relay needs (FAIL above).'
  ].join('\n')
}
