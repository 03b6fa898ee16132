import t from 'tap'
import { ConfigSchema } from '../../schemas/config.js'
import { build } from '../helper.js'
import {
  callOutcomes, changelogProblems, configurationProblems, issueNumbers, linkProblems, onDisk, outcomeProblems, read, readmeProblems,
  troubleshootingProblems, USER_DOCS
} from './checks.js'

// README.md and docs/ kept true to the code; each check is also shown failing on a deliberate
// mistake of its kind, so that none of them can pass by checking nothing.
const version = (JSON.parse(read('package.json')) as { version: string }).version

t.test('docs/configuration.md: every variable the relay reads, with its real default and bounds', async (t) => {
  t.same(configurationProblems(read('docs/configuration.md')), [])
  const rows = read('docs/configuration.md').split('\n').filter((l) => l.startsWith('| `')).length
  t.ok(rows > Object.keys(ConfigSchema.properties).length, `${rows} variables documented: the schema's and those read beside it`)
})

t.test('every relative link and anchor of README.md, CHANGELOG.md and docs/ resolves', async (t) => {
  const files = new Map(USER_DOCS.map((f) => [f, read(f)]))
  t.same(linkProblems(files, onDisk), [])
  const links = [...files.values()].join('\n').match(/\]\((?![a-z]+:)[^)]+\)/gi) ?? []
  t.ok(links.length >= 40, `${links.length} relative links checked`)
})

t.test('docs/troubleshooting.md: every message start is one the relay emits, every code and error has a row', async (t) => {
  t.same(troubleshootingProblems(read('docs/troubleshooting.md')), [])
})

t.test('the changelog\'s newest release is the version /version answers', async (t) => {
  t.same(changelogProblems(read('CHANGELOG.md'), version), [])
  const { app } = await build(t)
  t.same((await app.inject({ method: 'POST', url: '/version' })).json(), { version })
})

t.test('the README: short, the two commands on its first screen; no user document names an issue number', async (t) => {
  t.same(readmeProblems(read('README.md')), [])
  t.same(USER_DOCS.flatMap((f) => issueNumbers(f, read(f))), [])
})

t.test('docs/operations.md and the metrics\' help: every outcome the relay counts', async (t) => {
  const outcomes = callOutcomes()
  t.ok(outcomes.calls.has('throttled') && outcomes.calls.has('network_error') && outcomes.cache.has('hit'), `read from the sources: ${[...outcomes.calls, ...outcomes.cache].join(', ')}`)
  t.same(outcomeProblems(read('docs/operations.md'), read('plugins/app/metrics.ts')), [])
  t.match(read('docs/configuration.md'), /`QUALYS_MAX_URL_BYTES` \|[^|]*half the refused batch's size is remembered/, 'QUALYS_MAX_URL_BYTES: what the batch-size layer keeps (half the refused size)')
})

t.test('each check fails on a deliberate mistake of its kind', async (t) => {
  const config = read('docs/configuration.md')
  t.same(configurationProblems(config.replace('| `QUALYS_RETRIES` | retries of a call answered 429, 409 or 503 | `3` |', '| `QUALYS_RETRIES` | retries of a call answered 429, 409 or 503 | `5` |')),
    ['QUALYS_RETRIES: the default is `3`, the docs say "`5`"'], 'a wrong default')
  t.same(configurationProblems(config.replace(/^\| `HEALTH_CACHE_S` .*\n/m, '')), ['HEALTH_CACHE_S: in the configuration schema, not documented'], 'a variable left out')
  t.same(configurationProblems(config + '| `QUALYS_TIMEOUT_MS` | gone | `5000` | ≥ 1 | — |\n'), ['QUALYS_TIMEOUT_MS: documented, but the relay never reads it'], 'a variable the relay does not read')
  t.same(configurationProblems(config.replace('| `1000` | ≥ 1, ≤ 100 |', '| `1000` | ≥ 1 |').replace('`2` | ≥ 1, ≤ 100 |', '`2` | ≥ 1 |')),
    ['QUALYS_CONCURRENCY: the bounds miss ≤ 100: "≥ 1"'], 'a bound left out')
  t.same(configurationProblems(config.replace('| ≥ 1 | `CTR_ENTITIES_LIMIT` |', '| ≥ 1 | — |')),
    ['CTR_ENTITIES_LIMIT: the claim column says "—", the auth plugin reads a claim CTR_ENTITIES_LIMIT'], 'a claim left out')
  t.same(configurationProblems(config.replace('| `DEMO_LATENCY_MS` | the simulated Qualys\' latency per call | `20` |', '| `DEMO_LATENCY_MS` | the simulated Qualys\' latency per call | `50` |')),
    ['DEMO_LATENCY_MS: the default is `20`, the docs say "`50`"'], 'a wrong default outside the schema')

  const files = new Map([['README.md', 'see [the budget](docs/budget.md#what-it-costs) and [x](docs/nowhere.md) and [y](#prerequisites)\n## Prerequisites\n'], ['docs/budget.md', '# The Qualys budget\n## What each feature costs\n']])
  t.same(linkProblems(files, () => undefined), [
    'README.md: link to docs/budget.md#what-it-costs: no such heading in docs/budget.md',
    'README.md: link to docs/nowhere.md: no such file'
  ], 'a dead anchor and a dead file')

  const doc = read('docs/troubleshooting.md')
  t.same(troubleshootingProblems(doc.replace('`Qualys IOC did not answer in time (limit <ms> ms)`', '`Qualys IOC did not answer on time`')),
    ['timeout: "Qualys IOC did not answer on time" is no message the relay emits with this code', 'timeout ("Qualys IOC did not answer in time (limit … ms)") has no row'], 'a message that drifted')
  t.same(troubleshootingProblems(doc.replace('| `permission denied` | `Unexpected response from Qualys IOC: …`', '| `unknown` | `Unexpected response from Qualys IOC: …`')),
    ['code "permission denied" has no row', 'qualysForbidden ("Unexpected response from Qualys IOC: …") has no row'], 'a code without its row')
  t.same(troubleshootingProblems(doc.replace(/^\| `authorization error` \| `Authorization failed: Token has expired` .*\n/m, '')),
    ['AUTH_REASON.expired ("Authorization failed: Token has expired") has no row'], 'an error without its row')
  t.same(troubleshootingProblems(doc.replace('| 413 | `Payload Too Large` |', '| 413 | `Body Too Large` |')),
    ['HTTP 413: the relay says "Payload Too Large", the docs "Body Too Large"'], 'a status text that drifted')

  t.same(outcomeProblems(read('docs/operations.md').replace(', `retry` and `throttled` (a call', ', `retry` and throttled (a call'), read('plugins/app/metrics.ts')),
    ['relay_qualys_calls_total: the outcome throttled is not in docs/operations.md'], 'an outcome left out of the docs')
  t.same(outcomeProblems(read('docs/operations.md'), read('plugins/app/metrics.ts').replace('retry, throttled, login', 'retry, login')),
    ['relay_qualys_calls_total: the outcome throttled is not in its help text'], 'an outcome left out of the help text')

  t.same(changelogProblems('# Changelog\n## [Unreleased]\n## [1.9.0] - 2026-12-01\n', '2.0.0'), ['the newest release is 1.9.0, package.json says 2.0.0'], 'a release not in the changelog')
  t.same(readmeProblems(`# Relay\n${'text\n'.repeat(60)}npm ci && npm run demo\nnpm ci && npm test\n`),
    ['"npm ci && npm run demo" is not in the README\'s first screen (40 lines)', '"npm ci && npm test" is not in the README\'s first screen (40 lines)'], 'the commands below the first screen')
  t.same(readmeProblems('x\n'.repeat(250) + 'npm ci && npm run demo'), ['README.md has 251 lines (at most 200)', '"npm ci && npm run demo" is not in the README\'s first screen (40 lines)', '"npm ci && npm test" is not in the README\'s first screen (40 lines)'], 'a long README')
  t.same(issueNumbers('README.md', "issue 28's own numbers, see #34, and [x](#tests)"), ['README.md: "issue 28"', 'README.md: "#34"'], 'issue numbers')
})
