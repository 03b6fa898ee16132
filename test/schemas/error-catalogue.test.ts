import t from 'tap'
import { CODE, ERRORS, STATUS_TEXT, matches, render } from '../../schemas/error-catalogue.js'
import { build } from '../helper.js'

interface Found { where: string, problem?: string }

// Every error entry ({type, code, message}) and framework error ({code, message, reason}) anywhere
// in the OpenAPI document, each checked against the catalogue: an example whose message the relay
// cannot emit (a literal that drifted, a code beside the wrong text) is reported.
function errorExamples (doc: unknown): Found[] {
  const found: Found[] = []
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) { node.forEach((item, i) => walk(item, `${where}[${i}]`)); return }
    if (node === null || typeof node !== 'object') return
    const o = node as Record<string, unknown>
    if ((o.type === 'fatal' || o.type === 'warning') && typeof o.code === 'string' && typeof o.message === 'string') {
      const entry = Object.values(ERRORS).find((e) => e.code === o.code && e.type === o.type && matches(e, o.message as string))
      found.push({ where, problem: entry === undefined ? `${o.type} "${o.code}": "${o.message}" is no message of the catalogue` : undefined })
      return
    }
    if (typeof o.code === 'number' && typeof o.message === 'string' && typeof o.reason === 'string') {
      const text = STATUS_TEXT[o.code]
      found.push({ where, problem: text?.message === o.message && text.reason === o.reason ? undefined : `${o.code} "${o.message}" / "${o.reason}" is not the relay's status text` })
      return
    }
    for (const [key, value] of Object.entries(o)) walk(value, `${where}.${key}`)
  }
  walk(doc, '$')
  return found
}

t.test('every error in the OpenAPI examples is one the relay emits, as the catalogue says', async (t) => {
  const { app } = await build(t)
  const doc = (await app.inject({ url: '/docs/json' })).json()
  const found = errorExamples(doc)
  for (const f of found) t.equal(f.problem, undefined, f.where)
  const envelopes = found.filter((f) => !/\.reason$/.test(f.where))
  t.ok(envelopes.length >= 30, `${envelopes.length} error examples found in /docs/json`)
})

t.test('the check fails on an example that drifted from the catalogue', async (t) => {
  const drifted = {
    a: { type: 'fatal', code: CODE.timeout, message: 'Qualys IOC did not answer on time (limit 25000 ms)' }, // a changed word
    b: { type: 'fatal', code: CODE.auth, message: render(ERRORS.connection, { apiUrl: 'https://x' }) }, // the wrong code
    c: { type: 'warning', code: CODE.tooMany, message: render(ERRORS.tooManyRequests) }, // the wrong type
    d: { code: 404, message: 'Not Found', reason: 'Nothing here.' },
    ok: { type: 'fatal', code: CODE.timeout, message: render(ERRORS.timeout, { ms: 9 }) }
  }
  t.same(errorExamples(drifted).map((f) => f.problem === undefined ? 'ok' : f.where), ['$.a', '$.b', '$.c', '$.d', 'ok'])
})

t.test('templates render what they match, and only that', async (t) => {
  for (const [name, entry] of Object.entries(ERRORS)) {
    const vars = Object.fromEntries([...entry.text.matchAll(/\{(\w+)\}/g)].map((m) => [m[1] as string, 'x{y}']))
    const text = render(entry, vars)
    t.ok(matches(entry, text), `${name} matches its own rendering`)
    t.notOk(matches(entry, `A ${text}`), `${name} does not match a text with a word more in front`)
  }
  t.throws(() => render(ERRORS.timeout), /no value for \{ms\}/, 'a missing value is a bug, not a message with a hole')
  t.equal(render(ERRORS.invalidPayload, { detail: '{"ms": 1}' }), 'Invalid JSON payload received. {"ms": 1}', 'values are inserted once, not read as templates')
})
