import t from 'tap'
import { bearer, build, hsToken } from '../helper.js'

const TOKEN = bearer(hsToken({ user: 'u', pass: 'p' }))
const invalid = (what: string) => ({
  errors: [{ type: 'fatal', code: 'invalid argument', message: `Invalid JSON payload received. ${what}` }]
})

t.test('stub relay routes answer their fixed shapes', async (t) => {
  const { app } = await build(t, { PLATFORM_URL: 'https://qualysguard.qg2.apps.qualys.com' })
  const post = async (url: string, payload?: unknown, headers: Record<string, string> = TOKEN) =>
    (await app.inject({ method: 'POST', url, headers, payload: payload === undefined ? undefined : JSON.stringify(payload) })).json()
  const obs = [{ type: 'ip', value: '1.1.1.1' }]
  t.same(await post('/respond/observables', obs), { data: [] })
  t.same(await post('/respond/trigger', { 'action-id': 'x', observable_type: 'ip', observable_value: '1.1.1.1' }), { data: { status: 'failure' } })
  t.same(await post('/respond/trigger'), { data: { status: 'failure' } }, 'trigger without a body')
  t.same(await post('/version', undefined, {}), { version: '2.0.0' }, 'version needs no token')
  t.same(await post('/version/', undefined, {}), { version: '2.0.0' }, 'trailing slash')
  t.equal((await post('/refer/observables/', obs, TOKEN)).data.length, 1, 'trailing slash on a relay route')
  t.same(await post('/deliberate/observables', obs, {}), {
    errors: [{ type: 'fatal', code: 'authorization error', message: 'Authorization failed: Authorization header is missing' }]
  })
})

t.test('watchdog echoes Health-Check', async (t) => {
  const { app } = await build(t)
  t.same((await app.inject({ url: '/watchdog', headers: { 'health-check': 'x-123' } })).json(), { data: 'x-123' })
  t.same((await app.inject({ url: '/watchdog' })).json(), {
    errors: [{ type: 'fatal', code: 'health check failed', message: 'Invalid Health Check' }]
  })
})

t.test('bodies are JSON whatever the Content-Type', async (t) => {
  const { app } = await build(t)
  for (const contentType of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'garbage', '*/*']) {
    const res = await app.inject({
      method: 'POST',
      url: '/respond/observables',
      headers: { ...TOKEN, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
      body: '[{"type":"ip","value":"1.1.1.1"}]'
    })
    t.same(res.json(), { data: [] }, String(contentType))
  }
  const health = await app.inject({ method: 'POST', url: '/version', headers: { 'content-type': 'text/plain' }, body: 'ignored {' })
  t.same(health.json(), { version: '2.0.0' }, 'a route without a body ignores it')
})

t.test('invalid observable lists name each index and field', async (t) => {
  const { app } = await build(t)
  const cases: Array<[string, string, unknown]> = [
    ['empty body', '', invalid('{"_schema": ["Invalid input type."]}')],
    ['not JSON', '[{"type": "ip",', invalid('{"_schema": ["The body is not valid JSON."]}')],
    ['an object', '{"type":"ip","value":"1.1.1.1"}', invalid('{"_schema": ["Invalid input type."]}')],
    ['missing value', '[{"type":"ip"}]', invalid('{"0": {"value": ["Missing data for required field."]}}')],
    ['several problems', '[{"type":"ip","value":"1.1.1.1"},{"value":5},"x",{"type":"","value":null}]',
      invalid('{"1": {"type": ["Missing data for required field."], "value": ["Not a valid string."]}, ' +
        '"2": {"_schema": ["Invalid input type."]}, "3": {"type": ["Shorter than minimum length 1."], "value": ["Field may not be null."]}}')],
    ['index order is numeric', '[' + Array(10).fill('{"type":"ip","value":"1"}').join(',') + ',{},{"type":1,"value":"x"}]',
      invalid('{"10": {"type": ["Missing data for required field."], "value": ["Missing data for required field."]}, "11": {"type": ["Not a valid string."]}}')]
  ]
  for (const [name, body, expected] of cases) {
    const res = await app.inject({ method: 'POST', url: '/observe/observables', headers: TOKEN, body })
    t.equal(res.statusCode, 200, name)
    t.same(res.json(), expected, name)
  }
  const ok = await app.inject({ method: 'POST', url: '/refer/observables', headers: TOKEN, body: '[]' })
  t.same(ok.json(), { data: [] }, 'an empty list is valid')
})

t.test('framework errors: 404, 405, 413, 500 without internals', async (t) => {
  const { app, logs } = await build(t, { BODY_LIMIT: '2048' }, (f) => {
    f.post('/boom', async () => { throw new Error('internal detail: db password is hunter2') })
  })
  const notFound = await app.inject({ method: 'POST', url: '/nope' })
  t.equal(notFound.statusCode, 404)
  t.same(notFound.json(), { code: 404, message: 'Not Found', reason: 'The requested URL was not found on the server.' })

  const wrongMethod = await app.inject({ method: 'GET', url: '/observe/observables' })
  t.equal(wrongMethod.statusCode, 405)
  t.equal(wrongMethod.headers.allow, 'POST')
  t.same(wrongMethod.json(), { code: 405, message: 'Method Not Allowed', reason: 'The method is not allowed for the requested URL.' })
  t.equal((await app.inject({ method: 'POST', url: '/watchdog/' })).statusCode, 405, 'trailing slash on a wrong method')

  const big = await app.inject({ method: 'POST', url: '/observe/observables', headers: TOKEN, body: JSON.stringify([{ type: 'ip', value: 'x'.repeat(4096) }]) })
  t.equal(big.statusCode, 413)
  t.same(big.json(), { code: 413, message: 'Payload Too Large', reason: 'The request body is larger than the relay accepts.' })

  const boom = await app.inject({ method: 'POST', url: '/boom' })
  t.equal(boom.statusCode, 500)
  t.same(boom.json(), {
    code: 500,
    message: 'Internal Server Error',
    reason: 'The server encountered an internal error and was unable to complete your request.'
  })
  t.notMatch(boom.body, /hunter2|stack/)
  t.ok(logs.some((l) => l.includes('unhandled error')), 'the bug is logged for the operator')
})

t.test('one log line per request, with timing and without the token', async (t) => {
  const { app, logs } = await build(t)
  const token = hsToken({ user: 'u', pass: 'p' })
  await app.inject({ method: 'POST', url: '/refer/observables?x=1', headers: bearer(token), payload: [] })
  const lines = logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request')
  t.equal(lines.length, 1)
  t.match(lines[0], { method: 'POST', url: '/refer/observables', statusCode: 200, ms: Number })
  t.notOk(logs.some((l) => l.includes(token)), 'no JWT in any log line')
})

t.test('a cap on observables per request: a warning and the first N looked up', async (t) => {
  const { app } = await build(t, { MAX_OBSERVABLES: '3', PLATFORM_URL: 'https://qualysguard.qualys.com' })
  const payload = Array.from({ length: 5 }, (_, i) => ({ type: 'ip', value: `10.0.0.${i}` }))
  const res = await app.inject({ method: 'POST', url: '/refer/observables', headers: TOKEN, payload: [{ type: 'email', value: 'not counted' }, ...payload] })
  const body = res.json()
  t.same(body.data.map((d: { id: string }) => d.id), ['ref-qualys-search-ip-10.0.0.0', 'ref-qualys-search-ip-10.0.0.1', 'ref-qualys-search-ip-10.0.0.2'])
  t.same(body.errors, [{ type: 'warning', code: 'invalid argument', message: 'Too many observables: 5 supported observables were sent; the first 3 were looked up.' }])
})
