// npm run check-qualys -- --api-url <gateway> --user <user>: what your Qualys tenant does where the
// documentation is silent, and the relay settings to use (SPEC §8). The password comes from
// QUALYS_PASSWORD or a prompt, never an argument. Exit 1 when the tenant refuses something the
// relay needs, 2 on a usage error. In the container image: node dist/scripts/check-qualys.js …
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { createDispatcher, EgressConfigError, readEgress } from '../lib/egress.js'
import { networkError } from '../lib/errors.js'
import { checkTenant, formatReport } from './tenant-check.js'

const usage = 'Usage: npm run check-qualys -- --api-url <https://gateway.…> --user <qualys user>   (password: QUALYS_PASSWORD or a prompt)'

function fail (message: string): never {
  console.error(`check-qualys: ${message}`)
  process.exit(2)
}

async function prompt (question: string): Promise<string> {
  if (process.stdin.isTTY !== true) fail('no QUALYS_PASSWORD and no terminal to ask for it')
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  const rlOut = rl as unknown as { _writeToOutput: (s: string) => void }
  let asked = false
  rlOut._writeToOutput = (s: string) => { if (!asked) { process.stderr.write(s); asked = true } } // no echo
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve))
  rl.close()
  process.stderr.write('\n')
  return answer
}

let values
try {
  ({ values } = parseArgs({ options: { 'api-url': { type: 'string' }, user: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }))
} catch (err) {
  fail(`${(err as Error).message}\n${usage}`)
}
if (values.help === true) {
  console.log(usage)
  process.exit(0)
}
const apiUrl = values['api-url'] ?? process.env.API_URL
const user = values.user ?? process.env.QUALYS_USER
if (apiUrl === undefined || !/^https?:\/\/[^/\s]+/.test(apiUrl)) fail(`--api-url (or API_URL) must be the gateway URL\n${usage}`)
if (user === undefined || user === '') fail(`--user (or QUALYS_USER) is required\n${usage}`)
const password = process.env.QUALYS_PASSWORD ?? await prompt(`Qualys password for ${user}: `)

// The relay's own way out: through the egress proxy that HTTPS_PROXY / HTTP_PROXY name, if any.
let egress
try {
  egress = readEgress(process.env)
} catch (err) {
  if (!(err instanceof EgressConfigError)) throw err
  fail(`configuration error: ${err.message}`)
}
const dispatcher = createDispatcher(egress, { connectTimeoutMs: 10_000, connections: 4, keepAliveTimeoutMs: 10_000 })
try {
  const report = await checkTenant({ apiUrl, user, password, dispatcher })
  console.log(formatReport(report, apiUrl))
  process.exit(report.ok ? 0 : 1)
} catch (err) {
  const e = err as Error & { code?: string }
  const proxy = egress.proxyFor(apiUrl)
  const why = proxy === undefined ? (e.code ?? e.name) : networkError(err, apiUrl, proxy).message
  console.error(`check-qualys: cannot reach ${new URL(apiUrl).origin}: ${why}`)
  process.exit(1)
}
