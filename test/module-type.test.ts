import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { build, ROOT } from './helper.js'

t.test('module_type.json registers the relay in Cisco XDR', async (t) => {
  const mt = JSON.parse(readFileSync(path.join(ROOT, 'module_type.json'), 'utf8'))
  for (const key of ['title', 'default_name', 'short_description', 'description', 'tips', 'logo']) {
    t.type(mt[key], 'string', key)
    t.ok(mt[key].length > 0, key)
  }
  t.match(mt.logo, /^data:image\/svg\+xml;base64,/)
  t.match(mt.properties, { 'auth-type': 'configuration-token', 'configuration-token-alg': 'RS256', custom_jwks_host: 'visibility.amp.cisco.com' })
  t.same(mt.configuration_spec.map((c: { key: string, required: boolean }) => [c.key, c.required]), [
    ['custom_user', true], ['custom_pass', true], ['custom_API_URL', true], ['custom_PLATFORM_URL', false], ['custom_CTR_ENTITIES_LIMIT', false]
  ])
  t.equal(mt.configuration_spec.find((c: { key: string }) => c.key === 'custom_pass').type, 'password')
  t.same(mt.capabilities.map((c: { id: string }) => c.id), ['health', 'observe', 'refer', 'deliberate', 'tiles'])
  t.same(mt.properties['supported-apis'], ['health', 'observe/observables', 'refer/observables', 'deliberate/observables', 'tiles', 'tiles/tile', 'tiles/tile-data'])

  const { app } = await build(t)
  for (const api of mt.properties['supported-apis']) {
    t.ok(app.hasRoute({ method: 'POST', url: `/${api}` }), `POST /${api} exists`)
  }
  for (const capability of mt.capabilities) {
    t.ok(mt.properties['supported-apis'].some((a: string) => a.split('/')[0] === capability.id), `${capability.id} has an API`)
  }
})
