import t from 'tap'
import { build } from '../helper.js'

t.test('the OpenAPI document describes every route', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.equal(doc.openapi, '3.0.3')
  const { description, ...scheme } = doc.components.securitySchemes.bearerAuth
  t.same(scheme, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  t.match(description, /HS256/, 'the scheme says where shared-secret tokens come from')
  t.match(description, /RS256 configuration token/, 'and names XDR’s configuration tokens')
  const expected: Array<[string, string, boolean]> = [
    ['/health', 'post', true],
    ['/observe/observables', 'post', true],
    ['/refer/observables', 'post', true],
    ['/deliberate/observables', 'post', true],
    ['/respond/observables', 'post', true],
    ['/respond/trigger', 'post', true],
    ['/tiles', 'post', true],
    ['/tiles/tile', 'post', true],
    ['/tiles/tile-data', 'post', true],
    ['/version', 'post', false],
    ['/watchdog', 'get', false]
  ]
  for (const [path, method, secured] of expected) {
    const op = doc.paths[path]?.[method]
    t.ok(op, `${method.toUpperCase()} ${path} is documented`)
    if (op === undefined) continue
    t.ok(op.summary, `${path} has a summary`)
    t.ok(op.tags?.length > 0, `${path} has tags`)
    t.ok(op.responses?.['200'], `${path} documents its answer`)
    t.equal(op.security !== undefined, secured, `${path} security`)
    if (['/observe/observables', '/refer/observables', '/deliberate/observables', '/respond/observables'].includes(path)) {
      t.equal(op.requestBody?.content?.['application/json']?.schema?.type, 'array', `${path} takes an observables list`)
    }
  }
  const observe = JSON.stringify(doc.paths['/observe/observables'].post.responses['200'])
  for (const entity of ['Sighting', 'Indicator', 'Judgement', 'Relationship']) {
    t.ok(observe.includes(entity), `observe documents ${entity}`)
  }
  t.ok(doc.components.schemas.Sighting, 'CTIM schemas are components')
  for (const name of ['Verdict', 'Tile', 'MetricGroupData', 'DonutData', 'BarChartData', 'MarkdownData']) {
    t.ok(doc.components.schemas[name], `${name} is a component`)
  }
  t.match(JSON.stringify(doc.paths['/deliberate/observables'].post.responses['200']), /Verdict/, 'deliberate documents its verdicts')
  const tileData = JSON.stringify(doc.paths['/tiles/tile-data'].post.responses['200'])
  for (const shape of ['MetricGroupData', 'DonutData', 'BarChartData', 'MarkdownData']) t.match(tileData, shape, `tile-data documents ${shape}`)
  t.same(Object.keys(doc.paths['/tiles/tile-data'].post.requestBody.content['application/json'].schema.properties), ['tile_id', 'period'])

  const ui = await app.inject({ url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
})
