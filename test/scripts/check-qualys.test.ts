import t from 'tap'
import { checkTenant, formatReport } from '../../scripts/tenant-check.js'
import { DEMO, registerSecret, spawnTs, withSimulator } from '../helper.js'
import type { SimulatorOptions } from '../../simulator/index.js'

// The tenant check against each variant the simulator can play; every expectation by hand.
const HOUR = 3_600_000
const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR).toISOString().replace('Z', '+0000')
const HISTORICAL = [5, 1, 49, 3].map((h, i) => ({ id: `F${i}`, type: 'FILE', dateTime: at(h), file: { fileName: `f${i}.exe` } })) // stored out of order

async function check (t: any, opts: SimulatorOptions = {}, password = DEMO.pass) {
  const sim = await withSimulator(t, { fixtures: { active: [], historical: HISTORICAL }, ...opts })
  const report = await checkTenant({ apiUrl: sim.url, user: DEMO.user, password })
  const row = (name: string) => report.rows.find((r) => r.check.startsWith(name))
  const text = formatReport(report, sim.url)
  const tokens = sim.calls.map((c) => c.token).filter((x): x is string => x !== undefined)
  t.ok(report.calls <= 20, `${report.calls} calls (at most 20)`)
  const writes = sim.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.target}`)
  t.same(writes, ['POST /auth'], 'read-only: every call but the login is a GET')
  for (const secret of [password, ...tokens]) t.notOk(text.includes(secret), 'no password or token in the report')
  return { report, row, text, sim }
}

t.test('a tenant as documented: everything the relay needs, the settings to use', async (t) => {
  const { report, row, text } = await check(t)
  t.equal(report.ok, true, text)
  t.match(row('sort newest first')?.result, /^yes \(4 events\)/)
  t.match(row('time buckets')?.result, /aligned to the epoch/)
  t.match(row('count')?.result, /^4 events in 30 days/)
  t.equal(row('state left out')?.result, 'the same count')
  t.match(row('concurrency header')?.result, /not sent/)
  t.same(report.settings, { QUALYS_CONCURRENCY: '2', QUALYS_MAX_URL_BYTES: '8000' })
  t.match(text, /^ok +login \(POST \/auth\) +HTTP 201, a token$/m)
})

t.test('a front end that refuses request targets over 4,096 bytes: the size it accepts', async (t) => {
  for (const status of [414, 431, 400]) {
    const { report, row } = await check(t, { targetLimit: { bytes: 4096, status } })
    t.equal(report.ok, true)
    const accepted = Number(/^(\d+) bytes accepted/.exec(row('longest request target')?.result ?? '')?.[1])
    t.ok(accepted > 3500 && accepted <= 4096, `${status}: ${accepted} bytes accepted`)
    t.equal(report.settings.QUALYS_MAX_URL_BYTES, String(Math.floor(accepted / 100) * 100))
  }
})

t.test('a subscription that announces its budget: the limit and window printed, the reserve suggested', async (t) => {
  const { report, row, text } = await check(t, { rateLimit: { limit: 300, windowSec: 3600 } })
  t.equal(report.ok, true)
  t.match(row('rate-limit headers')?.result, /^x-ratelimit-limit: 300, x-ratelimit-remaining: 299, x-ratelimit-window-sec: 3600$/)
  t.equal(row('API budget')?.result, '300 calls per 3600 s, 299 left now; tiles and health will leave 60 to investigations')
  t.equal(report.settings.QUALYS_BUDGET_RESERVE, '60', 'a fifth of 300')
  t.match(text, /^ {2}QUALYS_BUDGET_RESERVE=60$/m)
})

t.test('a small budget: the reserve suggested is the one the relay keeps by default (20 %, rounded up)', async (t) => {
  for (const [limit, kept] of [[4, 1], [7, 2], [10, 2], [11, 3]] as const) {
    const { report, row } = await check(t, { rateLimit: { limit, windowSec: 3600 } })
    t.match(row('API budget')?.result, new RegExp(`^${limit} calls per 3600 s, ${limit - 1} left now; tiles and health will leave ${kept} to investigations$`))
    t.equal(report.settings.QUALYS_BUDGET_RESERVE, String(kept), `limit ${limit}`)
  }
})

t.test('each spelling of the concurrency header is read', async (t) => {
  for (const name of ['x-concurrency-limit-limit', 'x-concurrencylimit-limit'] as const) {
    const { report, row } = await check(t, { concurrencyLimitHeader: 1, concurrencyHeaderName: name })
    t.equal(row('concurrency header')?.result, `${name}: 1`)
    t.equal(report.settings.QUALYS_CONCURRENCY, '1')
  }
})

t.test('time buckets cut from fromDate are reported, and the relay copes (it asks aligned windows)', async (t) => {
  const { report, row } = await check(t, { bucketAlignment: 'from' })
  t.match(row('time buckets')?.result, /cut from fromDate/)
  t.equal(report.ok, true)
})

t.test('time buckets on a grid of the tenant\'s own (7 minutes after the multiples) are reported, and the relay copes', async (t) => {
  const { report, row } = await check(t, { bucketAlignment: 'late' })
  t.equal(row('time buckets')?.result, 'on a grid of the tenant\'s own, 420 s after the multiples of their width (the relay places each bucket on the bar that holds its start: it copes)')
  t.equal(report.ok, true)
})

t.test('a tenant that ignores sort: a failure, and batching off', async (t) => {
  const { report, row } = await check(t, { ignoreSort: true })
  t.equal(row('sort newest first')?.ok, false)
  t.equal(report.settings.QUALYS_BATCH, 'off')
  t.equal(report.ok, false)
})

t.test('a refused login, or no count endpoint: a failure', async (t) => {
  const refused = await check(t, {}, 'wrong-password-123')
  t.equal(refused.report.ok, false)
  t.match(refused.row('login')?.result, /^refused: HTTP 401 .*InvalidCredentialsException/)
  const { report, row, sim } = await check(t)
  t.equal(report.ok, true)
  sim.rule = (call) => call.path === 'count' ? { status: 404, body: 'Not Found' } : undefined
  const again = await checkTenant({ apiUrl: sim.url, user: DEMO.user, password: DEMO.pass })
  t.equal(again.ok, false)
  t.match(again.rows.find((r) => r.check.startsWith('count'))?.result, /^HTTP 404/)
  t.ok(row('count')?.ok)
})

t.test('npm run check-qualys: password from QUALYS_PASSWORD, exit 0 / 1, no secret printed', async (t) => {
  const sim = await withSimulator(t, { fixtures: { active: [], historical: HISTORICAL } })
  registerSecret('wrong-password-123')
  const good = spawnTs(t, 'scripts/check-qualys.ts', { QUALYS_PASSWORD: DEMO.pass }, ['--api-url', sim.url, '--user', DEMO.user])
  t.equal(await good.exited, 0, good.output())
  t.match(good.output(), /Settings for the relay:\n {2}QUALYS_CONCURRENCY=2\n {2}QUALYS_MAX_URL_BYTES=8000/)
  const bad = spawnTs(t, 'scripts/check-qualys.ts', { QUALYS_PASSWORD: 'wrong-password-123' }, ['--api-url', sim.url, '--user', DEMO.user])
  t.equal(await bad.exited, 1)
  const usage = spawnTs(t, 'scripts/check-qualys.ts', { QUALYS_PASSWORD: 'x' }, ['--user', DEMO.user])
  t.equal(await usage.exited, 2, 'no API URL: a usage error')
  const tokens = sim.calls.map((c) => c.token).filter((x): x is string => x !== undefined)
  for (const secret of [DEMO.pass, 'wrong-password-123', ...tokens]) t.notOk(good.output().includes(secret) || bad.output().includes(secret))
})
