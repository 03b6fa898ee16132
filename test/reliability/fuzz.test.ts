import t from 'tap'
import fc from 'fast-check'
import { bearer, build, DEMO, hsToken, withSimulator } from '../helper.js'

const ROUTES = ['/observe/observables', '/refer/observables', '/deliberate/observables', '/respond/observables', '/respond/trigger', '/health']
const VALID = hsToken(DEMO)

// Every answer is the relay envelope (HTTP 200, only `data` and `errors`) or the framework shape.
function wellFormed (status: number, text: string): string | undefined {
  let body: Record<string, unknown>
  try { body = JSON.parse(text) } catch { return `not JSON: ${text.slice(0, 100)}` }
  if (status === 200) {
    const extra = Object.keys(body).filter((k) => k !== 'data' && k !== 'errors')
    if (extra.length > 0) return `unexpected keys ${extra}`
    const errors = body.errors
    if (errors !== undefined && !(Array.isArray(errors) && errors.every((e) =>
      ['fatal', 'warning'].includes(e?.type) && typeof e.code === 'string' && typeof e.message === 'string'))) return 'bad errors'
    return undefined
  }
  if (![404, 405, 413].includes(status)) return `status ${status}`
  if (body.code !== status || typeof body.message !== 'string' || typeof body.reason !== 'string') return 'bad framework shape'
  return undefined
}

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n)
const observable = fc.record({ type: fc.oneof(fc.constantFrom('md5', 'sha256', 'file_name', 'file_path', 'ip', 'domain', 'mutex', 'url'), fc.string()), value: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constant('')) }, { requiredKeys: [] })
const body = fc.oneof(
  fc.array(observable, { maxLength: 8 }).map((x) => JSON.stringify(x)),
  fc.jsonValue().map((x) => JSON.stringify(x)),
  fc.anything().map((x) => { try { return JSON.stringify(x) ?? '' } catch { return '' } }),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.integer({ min: 1, max: 2000 }).map(deep),
  fc.integer({ min: 1, max: 300_000 }).map((n) => JSON.stringify([{ type: 'ip', value: 'x'.repeat(n) }]))
)
const authorization = fc.oneof(
  fc.constant(`Bearer ${VALID}`),
  fc.string().map((s) => `Bearer ${s}`),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('Bearer', 'bearer  x', 'Basic Zm9vOmJhcg==', `Bearer ${VALID}.x`, `Bearer ${VALID.slice(0, -3)}`, `Bearer ${VALID} ${VALID}`),
  fc.constant(undefined)
)

t.test('thousands of malformed requests: never a 5xx, never a crash', async (t) => {
  const sim = await withSimulator(t)
  const { app } = await build(t, { API_URL: sim.url, BODY_LIMIT: '262144', QUALYS_CONCURRENCY: '4' })
  const failures: string[] = []
  await fc.assert(fc.asyncProperty(fc.constantFrom(...ROUTES), body, authorization,
    fc.option(fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json; charset=latin1', '*/*', 'garbage')),
    async (url, payload, auth, contentType) => {
      const headers: Record<string, string> = {}
      if (auth !== undefined) headers.authorization = auth.replace(/[^\t\x20-\x7e]/g, '?')
      if (contentType !== null) headers['content-type'] = contentType
      const res = await app.inject({ method: 'POST', url, headers, payload })
      const problem = wellFormed(res.statusCode, res.body)
      if (problem !== undefined) failures.push(`${url} ${problem}`)
      return problem === undefined
    }), { numRuns: 3000 })
  t.same(failures, [])
})

t.test('the big ones: over the body limit, deep nesting, 10,000 observables, invalid UTF-8', async (t) => {
  const sim = await withSimulator(t)
  const { app } = await build(t, { API_URL: sim.url, PLATFORM_URL: 'https://qualysguard.qualys.com' })
  const post = (url: string, payload: string | Buffer) => app.inject({ method: 'POST', url, headers: bearer(VALID), payload })
  const over = await post('/observe/observables', JSON.stringify([{ type: 'ip', value: 'x'.repeat(2 << 20) }]))
  t.equal(over.statusCode, 413)
  const nested = await post('/observe/observables', deep(100_000))
  t.equal(nested.statusCode, 200)
  t.match(nested.json(), { errors: [{ code: 'invalid argument' }] })
  const many = Array.from({ length: 10_000 }, (_, i) => ({ type: 'ip', value: `10.${i >> 8}.${i & 255}.1` }))
  const refer = await post('/refer/observables', JSON.stringify(many))
  t.equal(refer.json().data.length, 1000)
  t.match(refer.json().errors, [{ type: 'warning', code: 'invalid argument', message: 'Too many observables: 10000 supported observables were sent; the first 1000 were looked up.' }])
  const utf8 = await post('/observe/observables', Buffer.from([0x5b, 0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d, 0x5d]))
  t.match(utf8.json(), { errors: [{ code: 'invalid argument' }] })
  t.same((await app.inject({ method: 'POST', url: '/version' })).json(), { version: '2.0.0' }, 'still serving')
})
