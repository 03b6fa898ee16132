import { request, type Dispatcher } from 'undici'
import { SORT } from './qql.js'
import { scrub } from './secrets.js'
import { USER_AGENT } from './version.js'

// The tenant check (SPEC §8): what an operator's own Qualys tenant does where the documentation
// is silent, read-only and within a small number of calls, and the relay settings that follow.
// Nothing it prints holds the password or the token.

export interface CheckOptions { apiUrl: string, user: string, password: string, dispatcher?: Dispatcher, now?: Date }
export interface CheckRow { check: string, result: string, ok: boolean }
export interface CheckReport { rows: CheckRow[], settings: Record<string, string>, calls: number, ok: boolean }

const TARGETS = [2000, 4000, 8000, 16000] // request-target lengths probed, shortest first
const REFUSALS = new Set([400, 413, 414, 431])
const DUMMY = (i: number) => `file.hash.sha256: "${i.toString(16).padStart(64, '0')}"` // matches nothing
const cut = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 120)

export async function checkTenant (opts: CheckOptions): Promise<CheckReport> {
  const api = opts.apiUrl.replace(/\/+$/, '')
  const rows: CheckRow[] = []
  const settings: Record<string, string> = {}
  let calls = 0
  let token = ''
  const add = (check: string, result: string, ok = true) => { rows.push({ check, result, ok }) }
  const clean = (text: string) => cut(scrub(text, [opts.password, token]))

  async function get (path: string, query: string) {
    calls++
    const res = await request(`${api}${path}?${query}`, {
      dispatcher: opts.dispatcher,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': USER_AGENT },
      signal: AbortSignal.timeout(20_000)
    })
    return { status: res.statusCode, headers: res.headers, text: await res.body.text(), length: path.length + 1 + query.length }
  }
  const json = (text: string): unknown => { try { return JSON.parse(text) } catch { return undefined } }
  const sort = `sort=${encodeURIComponent(SORT)}`
  const now = opts.now ?? new Date()
  const month = `event.datetime:["${new Date(now.getTime() - 30 * 86_400_000).toISOString()}".."${now.toISOString()}"]`

  // 1. Login (POST /auth): the relay cannot work without it.
  calls++
  const login = await request(`${api}/auth`, {
    method: 'POST',
    dispatcher: opts.dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT },
    body: new URLSearchParams({ username: opts.user, password: opts.password, token: 'true' }).toString(),
    signal: AbortSignal.timeout(20_000)
  })
  const loginText = await login.body.text()
  if (login.statusCode < 200 || login.statusCode >= 300) {
    add('login (POST /auth)', `refused: HTTP ${login.statusCode} ${clean(loginText)}`, false)
    return { rows, settings, calls, ok: false }
  }
  token = loginText.trim()
  add('login (POST /auth)', `HTTP ${login.statusCode}, a token`)

  // 2. The events call the relay makes, and the headers it learns from.
  const first = await get('/ioc/events', `pageSize=1&state=true&${sort}`)
  add('events (GET /ioc/events, state=true, sort)', first.status === 200 || first.status === 204 ? `HTTP ${first.status}` : `HTTP ${first.status} ${clean(first.text)}`, first.status === 200 || first.status === 204)
  const header = (name: string) => { const v = first.headers[name]; return Array.isArray(v) ? v[0] : v }
  const spelling = ['x-concurrency-limit-limit', 'x-concurrencylimit-limit'].find((name) => header(name) !== undefined)
  const concurrency = spelling === undefined ? undefined : Number(header(spelling))
  add('concurrency header', spelling === undefined ? 'not sent (Qualys documents 2 by default)' : `${spelling}: ${header(spelling)}`)
  settings.QUALYS_CONCURRENCY = String(concurrency !== undefined && Number.isInteger(concurrency) && concurrency >= 1 ? concurrency : 2)
  const rate = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-window-sec'].filter((name) => header(name) !== undefined)
  add('rate-limit headers', rate.length === 0 ? 'not sent' : rate.map((name) => `${name}: ${header(name)}`).join(', '))

  // 3. Newest first: the order that makes batched and one-by-one answers the same.
  const recent = await get('/ioc/events', `pageSize=10&filter=${encodeURIComponent(month)}&state=false&${sort}`)
  const times = (Array.isArray(json(recent.text)) ? json(recent.text) as Array<{ dateTime?: unknown }> : [])
    .map((e) => typeof e.dateTime === 'string' ? Date.parse(e.dateTime.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : NaN).filter((t) => !Number.isNaN(t))
  const sorted = times.every((t, i) => i === 0 || t <= (times[i - 1] as number))
  if (recent.status >= 300) add('sort newest first', `HTTP ${recent.status} ${clean(recent.text)}`, false)
  else if (times.length < 2) add('sort newest first', `accepted; too few events in 30 days to see the order (${times.length})`)
  else add('sort newest first', sorted ? `yes (${times.length} events)` : 'NO: events came back out of order', sorted)
  if (times.length >= 2 && !sorted) settings.QUALYS_BATCH = 'off'

  // 4. The count endpoint (tiles), and whether leaving `state` out means state=false.
  const counted = await Promise.all(['', '&state=false'].map((state) => get('/ioc/events/count', `filter=${encodeURIComponent(month)}${state}`)))
  const counts = counted.map((c) => (json(c.text) as { count?: unknown } | undefined)?.count)
  if (counted.some((c) => c.status !== 200) || counts.some((c) => typeof c !== 'number')) {
    const bad = counted.find((c) => c.status !== 200) ?? counted[0]
    add('count (GET /ioc/events/count)', `HTTP ${bad?.status} ${clean(bad?.text ?? '')}`, false)
  } else {
    add('count (GET /ioc/events/count)', `${counts[1]} events in 30 days (state=false)`)
    add('state left out vs state=false', counts[0] === counts[1] ? 'the same count' : `different: ${counts[0]} without state, ${counts[1]} with state=false (the relay sends state=false for tiles)`)
  }

  // 5. Time buckets: on multiples of their width since the epoch (the docs' sample), or from fromDate?
  const width = 3600
  const from = Math.floor(now.getTime() / 1000) - 5 * width - 1234 // deliberately not on a multiple
  const buckets = await get('/ioc/events/count/time-buckets', `fromDate=${from}&toDate=${from + 5 * width}&bucketCount=5`)
  const keys = Object.keys((json(buckets.text) ?? {}) as object).map((k) => Date.parse(k.split('_')[0] ?? '') / 1000).sort((a, b) => a - b)
  if (buckets.status !== 200 || keys.length === 0 || keys.some(Number.isNaN)) add('time buckets', `HTTP ${buckets.status} ${clean(buckets.text)}`, false)
  else if (keys[0] === Math.floor(from / width) * width) add('time buckets', 'aligned to the epoch, as documented (the relay asks aligned windows)')
  else if (keys[0] === from) add('time buckets', 'cut from fromDate (the relay asks aligned windows: either works)')
  else add('time buckets', `first key ${new Date((keys[0] as number) * 1000).toISOString()} for fromDate ${new Date(from * 1000).toISOString()}: unexpected, the over-time tile may misplace counts`, false)

  // 6. The longest request target Qualys (and what stands before it) accepts for a batched query.
  let longest = 0
  for (const target of TARGETS) {
    const terms: string[] = []
    const base = `pageSize=1000&state=true&${sort}&filter=`.length + '/ioc/events?'.length
    while (base + encodeURIComponent(terms.join(' or ')).length < target - 120) terms.push(DUMMY(terms.length))
    const probe = await get('/ioc/events', `pageSize=1000&state=true&${sort}&filter=${encodeURIComponent(terms.join(' or '))}`)
    if (probe.status === 200 || probe.status === 204) longest = probe.length
    else if (REFUSALS.has(probe.status)) break
    else { add('longest request target', `HTTP ${probe.status} at ${probe.length} bytes: ${clean(probe.text)}`, false); break }
  }
  if (longest === 0) {
    add('longest request target', `under ${TARGETS[0]} bytes: batching refused`, false)
    settings.QUALYS_BATCH = 'off'
  } else {
    add('longest request target', `${longest} bytes accepted (pageSize=1000 too)${longest >= (TARGETS.at(-1) as number) - 200 ? ', the longest probed' : ', the next probe refused'}`)
    settings.QUALYS_MAX_URL_BYTES = String(Math.min(8000, Math.max(1000, Math.floor(longest / 100) * 100)))
  }
  return { rows, settings, calls, ok: rows.every((r) => r.ok) }
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
