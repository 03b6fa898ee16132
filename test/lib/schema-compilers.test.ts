// Schemas compiled by the build (scripts/compile-schemas.ts → lib/schema-compilers.ts): every
// schema the relay uses comes from there, the answers are those of the run-time compilers (and of
// the hand-written golden answer), a schema the build did not see still compiles, and a relay
// whose schemas all came from the build loads neither compiler.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { Type } from '@sinclair/typebox'
import { compileSchemas } from '../../scripts/compile-schemas.js'
import { serverOptions } from '../../app.js'
import { bearer, build, DEMO, hsToken, markRequestTimes, normaliseIds, SECRET_KEY, spawnNode, spawnTs, withSimulator } from '../helper.js'
import { builtRelay } from '../helpers/built.js'
import { freePort } from '../../scripts/free-port.js'
import { ALL_TYPES_ANSWER, ALL_TYPES_REQUEST, REQUEST_TIME } from '../golden/expected.js'

const dir = mkdtempSync(path.join(tmpdir(), 'compiled-schemas-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const built = await compileSchemas(dir)

t.test('the build compiles every schema of every route; identical code is written once', async (t) => {
  t.ok(built.schemas >= 60, `${built.schemas} schemas`)
  t.ok(built.modules < built.schemas / 2, `${built.modules} modules`)
  const { compilers } = await build(t, {}, undefined, dir)
  t.equal(compilers.built, true, 'the build\'s directory is found')
  t.strictSame(compilers.stats, { precompiled: 0, atRunTime: 0 }, 'nothing is looked up while the relay starts')
  t.equal(serverOptions(path.join(dir, 'missing')).compilers.built, false, 'no build output: the run-time compilers')
})

// Times the relay derives from its clock (request time, verdicts' end, tile periods): the two apps
// answer a few milliseconds apart.
const DAY = 86_400_000
const clockTimes = (body: unknown) => JSON.parse(JSON.stringify(body), (_key, value) =>
  typeof value === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(value) && Math.abs(Date.parse(value) - Date.now()) < 31 * DAY ? '<clock>' : value)

t.test('answers from the built code are those of the run-time compilers', async (t) => {
  const sim = await withSimulator(t)
  const env = { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', TILE_CACHE_TTL_S: '0' }
  const precompiled = await build(t, env, undefined, dir)
  const runTime = await build(t, env)
  const apps = { built: precompiled.app, runTime: runTime.app }
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
  t.equal(precompiled.compilers.stats.atRunTime, 0, 'no schema compiled at run time')
  t.ok(precompiled.compilers.stats.precompiled >= 15, `${precompiled.compilers.stats.precompiled} schemas used`)
  t.ok(runTime.compilers.stats.precompiled === 0 && !runTime.compilers.built, 'the other app compiled its own: nothing shared between apps')
})

t.test('a schema the build did not see compiles at run time, and serializes by its own rules', async (t) => {
  const { app, compilers } = await build(t, {}, (f) => {
    f.post('/extra', {
      config: { public: true },
      attachValidation: true,
      schema: { body: Type.Object({ n: Type.Integer() }), response: { 200: Type.Object({ n: Type.Integer() }) } }
    }, async (request) => request.validationError === undefined
      ? { ...(request.body as object), hidden: 'not in the schema' }
      : { n: -1, hidden: request.validationError.message })
  }, dir)
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
  t.equal(report.stats.atRunTime, 0, 'nothing compiled at run time')
  t.strictSame(report.loaded, [], 'no compiler module in the process')
})

// What `npm start` runs: dist/server.js finds the build's schemas through app.ts's own wiring.
t.test('the built relay (server.js) takes every schema from its build: no compiler loaded, no warning', async (t) => {
  const out = await builtRelay()
  const port = await freePort()
  const modules = path.join(dir, `loaded-${process.pid}.txt`)
  const relay = spawnNode(t, ['--require', './test/fixtures/loaded-modules.cjs', path.join(out, 'server.js')],
    { PORT: String(port), HOST: '127.0.0.1', SECRET_KEY, API_URL: 'http://127.0.0.1:9', PLATFORM_URL: 'https://qualysguard.qg2.apps.qualys.com', LOADED_MODULES_FILE: modules })
  await relay.waitFor(/Server listening/)
  const token = hsToken(DEMO)
  const post = async (url: string, payload?: unknown) => (await fetch(`http://127.0.0.1:${port}${url}`, {
    method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: payload === undefined ? undefined : JSON.stringify(payload)
  })).json() as Promise<any>
  t.same(await post('/version'), { version: '2.0.0' })
  t.match(await post('/observe/observables', [{ type: 'sha256' }]), { errors: [{ code: 'invalid argument' }] }, 'a validator')
  t.match(await post('/refer/observables', [{ type: 'ip', value: '10.0.0.1' }]), { data: [{ id: 'ref-qualys-search-ip-10.0.0.1' }] }, 'a serializer')
  t.match(await post('/tiles'), { data: [{ id: 'qualys-ioc-event-summary' }] })
  await new Promise((resolve) => setTimeout(resolve, 300)) // the warm-up after listen, if anything were left to compile
  relay.child.kill('SIGTERM')
  t.equal(await relay.exited, 0)
  t.notMatch(relay.output(), /no compiled schemas beside the relay/, 'the build\'s schemas were found')
  const loaded = readFileSync(modules, 'utf8').split('\n')
    .filter((file) => /node_modules\/(@fastify\/ajv-compiler|@fastify\/fast-json-stringify-compiler|ajv\/dist\/ajv\.js|fast-json-stringify\/index\.js)/.test(file))
  t.strictSame(loaded, [], 'neither ajv nor fast-json-stringify\'s compiler was loaded')
})
