import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormatsModule from 'ajv-formats'
import t from 'tap'
import { OBSERVABLES_EXAMPLE } from '../../schemas/examples.js'
import { build, ROOT } from '../helper.js'

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

// /docs shows an example for every request body, parameter and response, and every example is
// valid against its own schema as published in the OpenAPI document: an example can never drift
// from the contract. Schemas are compiled with the document's components beside them, so their
// #/components/schemas/… references resolve.
t.test('every operation in /docs has examples, and each one matches its schema', async (t) => {
  const { app } = await build(t)
  const doc = (await app.inject({ url: '/docs/json' })).json()
  const ajv = addFormats(new Ajv2019({ strict: false, allErrors: true }))
  const check = (schema: object, value: unknown, where: string) => {
    const validate = ajv.compile({ ...schema, components: doc.components })
    t.ok(validate(value), `${where}: ${validate.errors === null || validate.errors === undefined ? 'valid' : ajv.errorsText(validate.errors)}`)
  }
  let examples = 0
  for (const [route, methods] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const name = `${method.toUpperCase()} ${route}`
      const body = op.requestBody?.content?.['application/json']
      if (body !== undefined) {
        t.ok(body.example !== undefined, `${name}: the request body has an example`)
        if (body.example !== undefined) { check(body.schema, body.example, `${name} request example`); examples++ }
      }
      for (const parameter of op.parameters ?? []) {
        t.ok(parameter.example !== undefined, `${name}: parameter ${parameter.name} has an example`)
        check(parameter.schema, parameter.example, `${name} parameter ${parameter.name}`)
        examples++
      }
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        const media = response.content?.['application/json']
        const named = Object.entries(media?.examples ?? {}) as Array<[string, { value: unknown }]>
        t.ok(media?.example !== undefined || named.length > 0, `${name} ${status}: the answer has an example`)
        if (media?.example !== undefined) { check(media.schema, media.example, `${name} ${status} example`); examples++ }
        for (const [key, { value }] of named) { check(media.schema, value, `${name} ${status} example ${key}`); examples++ }
      }
    }
  }
  for (const [id, schema] of Object.entries(doc.components.schemas as Record<string, { example?: unknown }>)) {
    if (schema.example === undefined) continue
    check({ $ref: `#/components/schemas/${id}` }, schema.example, `component ${id} example`)
    examples++
  }
  t.ok(examples > 60, `${examples} examples checked`)
})

t.test('the request example is the demo’s own observable list, one of each supported type', async (t) => {
  const file = JSON.parse(readFileSync(path.join(ROOT, 'examples/observables.json'), 'utf8'))
  t.same(OBSERVABLES_EXAMPLE, file, 'examples/observables.json and the /docs example are the same list')
  t.same(OBSERVABLES_EXAMPLE.map((o) => o.type), ['sha256', 'md5', 'file_name', 'file_path', 'ip', 'ipv6', 'domain', 'mutex'])
})

t.test('an example that drifts from its schema fails the check', async (t) => {
  const ajv = addFormats(new Ajv2019({ strict: false }))
  const { app } = await build(t)
  const doc = (await app.inject({ url: '/docs/json' })).json()
  const sighting = { ...doc.components.schemas.Sighting.example, severity: 'Critical' }
  t.notOk(ajv.compile({ $ref: '#/components/schemas/Sighting', components: doc.components })(sighting), 'a severity outside CTIM 1.0 is refused')
})
