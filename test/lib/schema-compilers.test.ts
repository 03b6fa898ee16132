// Schemas compiled by the build (scripts/compile-schemas.ts → lib/schema-compilers.ts): every
// schema the relay uses comes from there, the answers are those of the run-time compilers (and of
// the hand-written golden answer), a schema the build did not see still compiles, and a relay
// whose schemas all came from the build loads neither compiler.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { Type } from '@sinclair/typebox'
import { compileSchemas } from '../../scripts/compile-schemas.js'
import { loadPrecompiled, schemaCompilers } from '../../lib/schema-compilers.js'
import { bearer, build, DEMO, hsToken, markRequestTimes, normaliseIds, spawnTs, withSimulator } from '../helper.js'
import { ALL_TYPES_ANSWER, ALL_TYPES_REQUEST, REQUEST_TIME } from '../golden/expected.js'

const dir = mkdtempSync(path.join(tmpdir(), 'compiled-schemas-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const built = await compileSchemas(dir)

const precompiled = () => {
  const compilers = schemaCompilers(loadPrecompiled(dir))
  return { compilers, serverOptions: { schemaController: { compilersFactory: compilers as never } } }
}

t.test('the build compiles every schema of every route; identical code is written once', async (t) => {
  t.ok(built.schemas >= 60, `${built.schemas} schemas`)
  t.ok(built.modules < built.schemas / 2, `${built.modules} modules`)
  const { compilers, serverOptions } = precompiled()
  await build(t, {}, undefined, serverOptions)
  t.strictSame(compilers.stats, { precompiled: 0, atRunTime: 0 }, 'nothing is looked up while the relay starts')
  compilers.resolveAll()
  t.strictSame(compilers.stats, { precompiled: built.schemas, atRunTime: 0 }, 'every schema Fastify asks for came from the build')
  t.equal(loadPrecompiled(path.join(dir, 'missing')), undefined, 'no build output: the run-time compilers')
})

// Times the relay derives from its clock (request time, verdicts' end, tile periods): the two apps
// answer a few milliseconds apart.
const DAY = 86_400_000
const clockTimes = (body: unknown) => JSON.parse(JSON.stringify(body), (_key, value) =>
  typeof value === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(value) && Math.abs(Date.parse(value) - Date.now()) < 31 * DAY ? '<clock>' : value)

t.test('answers from the built code are those of the run-time compilers', async (t) => {
  const sim = await withSimulator(t)
  const env = { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', TILE_CACHE_TTL_S: '0' }
  const { compilers, serverOptions } = precompiled()
  const apps = { built: (await build(t, env, undefined, serverOptions)).app, runTime: (await build(t, env)).app }
  const auth = bearer(hsToken(DEMO))
  const requests: Array<{ method: 'GET' | 'POST', url: string, payload?: unknown, headers?: Record<string, string> }> = [
    { method: 'POST', url: '/observe/observables', payload: ALL_TYPES_REQUEST, headers: auth },
    { method: 'POST', url: '/observe/observables', payload: [], headers: auth },
    { method: 'POST', url: '/observe/observables', payload: [{ type: 'sha256' }], headers: auth },
    { method: 'POST', url: '/observe/observables', payload: { type: 'sha256', value: 'x' }, headers: auth },
    { method: 'POST', url: '/observe/observables', payload: ALL_TYPES_REQUEST },
    { method: 'POST', url: '/deliberate/observables', payload: ALL_TYPES_REQUEST, headers: auth },
    { method: 'POST', url: '/refer/observables', payload: ALL_TYPES_REQUEST, headers: auth },
    { method: 'POST', url: '/refer/observables', payload: [{ type: 7, value: [] }], headers: auth },
    { method: 'POST', url: '/respond/observables', payload: ALL_TYPES_REQUEST, headers: auth },
    { method: 'POST', url: '/tiles', headers: auth },
    { method: 'POST', url: '/tiles/tile', payload: { tile_id: 'qualys-ioc-events-by-type' }, headers: auth },
    { method: 'POST', url: '/tiles/tile', payload: { tile_id: 'nope' }, headers: auth },
    ...['qualys-ioc-events-summary', 'qualys-ioc-events-by-type', 'qualys-ioc-events-over-time', 'qualys-ioc-latest-events']
      .map((tile) => ({ method: 'POST' as const, url: '/tiles/tile-data', payload: { tile_id: tile, period: 'last_7_days' }, headers: auth })),
    { method: 'POST', url: '/health', headers: auth },
    { method: 'POST', url: '/version' },
    { method: 'GET', url: '/watchdog', headers: { 'health-check': 'ok' } },
    { method: 'POST', url: '/nowhere' }
  ]
  for (const r of requests) {
    const answers = await Promise.all(Object.values(apps).map(async (app) => {
      const res = await app.inject({ ...r, payload: r.payload === undefined ? undefined : JSON.stringify(r.payload), headers: { 'content-type': 'application/json', ...r.headers } })
      const body = String(res.headers['content-type']).startsWith('application/json')
        ? normaliseIds(clockTimes(res.json())).body
        : res.body
      return { status: res.statusCode, type: res.headers['content-type'], body }
    }))
    t.strictSame(answers[0], answers[1], `${r.method} ${r.url} ${JSON.stringify(r.payload ?? '').slice(0, 40)}: ${answers[0]?.status}`)
  }
  const golden = await apps.built.inject({ method: 'POST', url: '/observe/observables', headers: auth, payload: ALL_TYPES_REQUEST })
  t.strictSame(normaliseIds(markRequestTimes(golden.json(), Date.now() - 60_000, Date.now() + 1, REQUEST_TIME)).body, ALL_TYPES_ANSWER, 'the golden answer')
  t.equal(compilers.stats.atRunTime, 0, 'no schema compiled at run time')
  t.ok(compilers.stats.precompiled >= 15, `${compilers.stats.precompiled} schemas used`)
})

t.test('a schema the build did not see compiles at run time, and serializes by its own rules', async (t) => {
  const { compilers, serverOptions } = precompiled()
  const { app } = await build(t, {}, (f) => {
    f.post('/extra', {
      config: { public: true },
      attachValidation: true,
      schema: { body: Type.Object({ n: Type.Integer() }), response: { 200: Type.Object({ n: Type.Integer() }) } }
    }, async (request) => request.validationError === undefined
      ? { ...(request.body as object), hidden: 'not in the schema' }
      : { n: -1, hidden: request.validationError.message })
  }, serverOptions)
  const ok = await app.inject({ method: 'POST', url: '/extra', payload: { n: 3 } })
  t.equal(ok.body, '{"n":3}')
  const bad = await app.inject({ method: 'POST', url: '/extra', payload: { n: 'three' } })
  t.equal(bad.body, '{"n":-1}', 'the validator refused it')
  t.equal(compilers.stats.atRunTime, 2, 'its validator and its 200 serializer')
})

t.test('a relay whose schemas came from the build loads neither ajv nor fast-json-stringify\'s compiler', async (t) => {
  const fixture = spawnTs(t, 'test/fixtures/precompiled-relay.ts', {}, [dir])
  t.equal(await fixture.exited, 0, fixture.output())
  const report = JSON.parse(fixture.output())
  t.strictSame(report.statuses, ['200', '200 invalid argument', '200 authorization error', '200'], 'answers: version, a bad body, no token, tiles list')
  t.ok(report.stats.precompiled >= 4, 'their schemas came from the build')
  t.strictSame(report.stats, { precompiled: report.stats.precompiled, atRunTime: 0 })
  t.strictSame(report.loaded, [], 'no compiler module in the process')
})
