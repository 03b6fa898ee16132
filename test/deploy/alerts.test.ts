import { execFile as execFileCb } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { parse } from 'yaml'
import { ROOT } from '../helper.js'
import { PROGRAMS, withPrograms } from '../system.js'

// The shipped alert rules (deploy/prometheus/): Prometheus' own tool checks them and runs their
// unit tests; without it, what can be read from the files still holds.
const execFile = promisify(execFileCb)
const DIR = path.join(ROOT, 'deploy/prometheus')
const read = (file: string) => readFileSync(path.join(DIR, file), 'utf8')

interface Rule { alert: string, expr: string, for?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
interface UnitTest { name: string, alert_rule_test: Array<{ alertname: string, exp_alerts: unknown[] }> }

export const rulesOf = (text: string): Rule[] => (parse(text) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules)

// Every rule annotated for an operator, and given both a firing and a silent unit test.
export function alertProblems (rules: Rule[], tests: UnitTest[], troubleshooting: string): string[] {
  const problems: string[] = []
  for (const rule of rules) {
    const a = rule.annotations ?? {}
    if ((a.summary ?? '') === '') problems.push(`${rule.alert}: no summary`)
    if ((a.description ?? '').length < 60) problems.push(`${rule.alert}: no description that says what to do`)
    if (a.runbook !== 'docs/troubleshooting.md#alerts') problems.push(`${rule.alert}: no runbook link to docs/troubleshooting.md#alerts`)
    if (!['critical', 'warning', 'info'].includes(rule.labels?.severity ?? '')) problems.push(`${rule.alert}: no severity`)
    if (!new RegExp(`^\\| \`${rule.alert}\` \\|`, 'm').test(troubleshooting)) problems.push(`${rule.alert}: no row in docs/troubleshooting.md#alerts`)
    const cases = tests.flatMap((u) => u.alert_rule_test).filter((c) => c.alertname === rule.alert)
    if (!cases.some((c) => c.exp_alerts.length > 0)) problems.push(`${rule.alert}: no unit test where it fires`)
    if (!cases.some((c) => c.exp_alerts.length === 0)) problems.push(`${rule.alert}: no unit test where it stays silent`)
  }
  return problems
}

const rules = rulesOf(read('alerts.yml'))
const tests = (parse(read('alerts.test.yml')) as { tests: UnitTest[] }).tests
const troubleshooting = readFileSync(path.join(ROOT, 'docs/troubleshooting.md'), 'utf8')

t.test('deploy/prometheus/alerts.yml: every rule annotated, in the troubleshooting page, tested firing and silent', async (t) => {
  t.same(rules.map((r) => r.alert), [
    'QualysCredentialsRefused', 'QualysBudgetLow', 'QualysBudgetSpent', 'QualysThrottling', 'QualysNetworkErrors', 'QualysUnreachable',
    'RelayRedisDown', 'RelayOverloaded', 'RelayHealthRed', 'RelayNoInvestigations', 'RelayMetricsDown'
  ])
  t.same(alertProblems(rules, tests, troubleshooting), [])
  t.match(troubleshooting, /^## Alerts$/m, 'the runbooks\' anchor exists')
  // Only metrics the relay exports (metrics.ts) and Prometheus' own `up`.
  const metricsSource = readFileSync(path.join(ROOT, 'plugins/app/metrics.ts'), 'utf8')
  for (const rule of rules) {
    for (const name of rule.expr.match(/\b(relay_[a-z_]+|up)(?=\{|\b)/g) ?? []) {
      t.ok(name === 'up' || metricsSource.includes(`'${name}'`), `${rule.alert}: ${name} is a metric the relay exports`)
    }
  }
})

t.test('the alert check fails on a deliberate omission of each kind', async (t) => {
  const [first] = rules as [Rule]
  const bare = { ...first, annotations: { summary: 'x', description: 'short' } }
  t.same(alertProblems([bare], [], ''), [
    'QualysCredentialsRefused: no description that says what to do',
    'QualysCredentialsRefused: no runbook link to docs/troubleshooting.md#alerts',
    'QualysCredentialsRefused: no row in docs/troubleshooting.md#alerts',
    'QualysCredentialsRefused: no unit test where it fires',
    'QualysCredentialsRefused: no unit test where it stays silent'
  ])
  const onlyFiring = tests.map((u) => ({ ...u, alert_rule_test: u.alert_rule_test.filter((c) => c.exp_alerts.length > 0) }))
  t.same(alertProblems([first], onlyFiring, troubleshooting), ['QualysCredentialsRefused: no unit test where it stays silent'])
})

withPrograms(t, [PROGRAMS.promtool], 'promtool checks the rules and the scrape config, and every unit test passes', async (t, paths) => {
  const promtool = paths.promtool as string
  const rulesCheck = await execFile(promtool, ['check', 'rules', 'alerts.yml'], { cwd: DIR })
  t.match(rulesCheck.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`))
  const config = await execFile(promtool, ['check', 'config', 'prometheus.yml'], { cwd: DIR })
  t.match(config.stdout, /prometheus\.yml is valid prometheus config file syntax/)
  const unit = await execFile(promtool, ['test', 'rules', 'alerts.test.yml'], { cwd: DIR })
  t.match(unit.stdout, /SUCCESS/, `${tests.length} unit tests`)
  // And the unit tests can fail: a rule whose threshold moved fails its firing test.
  const { mkdtempSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-alerts-'))
  writeFileSync(path.join(dir, 'alerts.yml'), read('alerts.yml').replace('relay_qualys_budget_remaining / relay_qualys_ratelimit_limit) < 0.2', 'relay_qualys_budget_remaining / relay_qualys_ratelimit_limit) < 0.1'))
  writeFileSync(path.join(dir, 'alerts.test.yml'), read('alerts.test.yml'))
  const red = await execFile(promtool, ['test', 'rules', 'alerts.test.yml'], { cwd: dir }).catch((err: { code: number, stdout: string, stderr: string }) => err)
  t.equal((red as { code?: number }).code, 1, 'a reserve threshold moved to 10 %: promtool fails')
  t.match(`${(red as { stdout: string }).stdout}${(red as { stderr: string }).stderr}`, /QualysBudgetLow: 50 of 300 left/)
})
