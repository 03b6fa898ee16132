import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import type { TSchema } from '@sinclair/typebox'
import { ConfigSchema } from '../../schemas/config.js'
import { AUTH_REASON, CODE, ERRORS, STATUS_TEXT } from '../../schemas/error-catalogue.js'

// The checks that keep README.md and docs/ true to the code, each a function of the documents'
// text (so that a test can feed it a deliberate mistake); each returns its problems, [] when none.

export const ROOT = path.resolve(import.meta.dirname, '../..')
export const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8')
export const USER_DOCS = ['README.md', 'CHANGELOG.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

// The rows of every markdown table whose first cell is backticked: each row's cells, trimmed.
export function tableRows (markdown: string): string[][] {
  return markdown.split('\n').filter((line) => /^\|\s*`/.test(line))
    .map((line) => line.replace(/^\|/, '').replace(/\|\s*$/, '').split(/(?<!\\)\|/).map((cell) => cell.trim()))
}

const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)

// ---- Configuration ----

const SOURCE_DIRS = ['server.ts', 'app.ts', 'lib', 'plugins', 'routes', 'scripts']
function sources (entry: string): string[] {
  const full = path.join(ROOT, entry)
  if (statSync(full).isFile()) return entry.endsWith('.ts') ? [entry] : []
  return readdirSync(full).flatMap((name) => sources(path.join(entry, name)))
}

// Variables read outside the configuration schema (`process.env.NAME ?? default`), with their default.
export function envReadsOutsideSchema (): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>()
  for (const file of SOURCE_DIRS.flatMap(sources)) {
    for (const m of read(file).matchAll(/process\.env\.([A-Z][A-Z0-9_]+)(?:\s*\?\?\s*(?:'([^']*)'|(\d+)))?/g)) {
      const name = m[1] as string
      if (name in ConfigSchema.properties) continue
      out.set(name, m[2] ?? m[3] ?? out.get(name))
    }
  }
  return out
}

// The token claims the auth plugin reads beside user and pass.
export const claimsRead = () => new Set([...read('plugins/app/auth/index.ts').matchAll(/payload\.([A-Z][A-Z_]+)/g)].map((m) => m[1] as string))

export function configurationProblems (doc: string): string[] {
  const problems: string[] = []
  const rows = new Map<string, string[]>()
  for (const cells of tableRows(doc)) {
    const names = backticked(cells[0] ?? '')
    if (names.length !== 1) { problems.push(`a row names ${names.length} variables, not one: ${cells[0]}`); continue }
    const name = names[0] as string
    if (rows.has(name)) problems.push(`${name}: documented twice`)
    rows.set(name, cells)
  }
  const outside = envReadsOutsideSchema()
  const claims = claimsRead()
  for (const [name, schema] of Object.entries(ConfigSchema.properties as Record<string, TSchema>)) {
    const cells = rows.get(name)
    if (cells === undefined) { problems.push(`${name}: in the configuration schema, not documented`); continue }
    const [, , def = '', bounds = '', claim = ''] = cells
    if (schema.default !== undefined) {
      if (!backticked(def).includes(String(schema.default))) problems.push(`${name}: the default is \`${schema.default}\`, the docs say "${def}"`)
    } else if (!/^(unset|none)\b/.test(def)) problems.push(`${name}: has no default, the docs say "${def}"`)
    if (schema.minimum !== undefined && !bounds.includes(`≥ ${schema.minimum}`)) problems.push(`${name}: the bounds miss ≥ ${schema.minimum}: "${bounds}"`)
    if (schema.maximum !== undefined && !bounds.includes(`≤ ${schema.maximum}`)) problems.push(`${name}: the bounds miss ≤ ${schema.maximum}: "${bounds}"`)
    for (const literal of (schema.anyOf ?? []) as TSchema[]) {
      if (literal.const !== undefined && !backticked(bounds).includes(String(literal.const))) problems.push(`${name}: the bounds miss \`${literal.const}\``)
    }
    const documentedClaim = backticked(claim)[0]
    if (claims.has(name) ? documentedClaim !== name : documentedClaim !== undefined) {
      problems.push(`${name}: the claim column says "${claim}", the auth plugin ${claims.has(name) ? 'reads' : 'does not read'} a claim ${name}`)
    }
  }
  for (const [name, cells] of rows) {
    if (name in ConfigSchema.properties) continue
    if (!outside.has(name)) { problems.push(`${name}: documented, but the relay never reads it`); continue }
    const fallback = outside.get(name)
    if (fallback !== undefined && !backticked(cells[2] ?? '').includes(fallback)) problems.push(`${name}: the default is \`${fallback}\`, the docs say "${cells[2]}"`)
  }
  return problems
}

// ---- Links and anchors ----

// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
export const slug = (heading: string) => heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')

export function anchors (markdown: string): Set<string> {
  const out = new Set<string>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    const m = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line)
    if (m !== null) out.add(slug(m[1] as string))
  }
  return out
}

// Every relative link of `files` (name → text): the file exists, and so does the anchor.
export function linkProblems (files: Map<string, string>, exists: (file: string) => string | undefined): string[] {
  const problems: string[] = []
  for (const [file, text] of files) {
    const prose = text.replace(/```[\s\S]*?```/g, '')
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] as string
      if (/^[a-z]+:/i.test(target)) continue
      const [rel = '', anchor] = target.split('#')
      const to = rel === '' ? file : path.normalize(path.join(path.dirname(file), rel))
      const content = files.get(to) ?? exists(to)
      if (content === undefined) { problems.push(`${file}: link to ${target}: no such file`); continue }
      if (anchor !== undefined && to.endsWith('.md') && !anchors(content).has(anchor)) problems.push(`${file}: link to ${target}: no such heading in ${to}`)
    }
  }
  return problems
}

export const onDisk = (file: string): string | undefined => {
  try {
    const full = path.join(ROOT, file)
    return statSync(full).isDirectory() ? '' : readFileSync(full, 'utf8')
  } catch { return undefined }
}

// ---- Troubleshooting ----

const HOLE = '\u0000'
// What the relay can emit, a `{name}` as a hole: every catalogue entry, and the authorization
// entry once per reason the relay itself gives.
const EMITTABLE = [
  ...Object.entries(ERRORS).map(([name, e]) => ({ name, code: e.code as string, text: e.text.replace(/\{\w+\}/g, HOLE) })),
  ...Object.entries(AUTH_REASON).map(([name, reason]) => ({ name: `AUTH_REASON.${name}`, code: CODE.auth as string, text: `Authorization failed: ${reason}` }))
]

// A documented message start: `<what>` (in words, lower case) stands for a value the relay fills
// in (a hole of the template: it never stands for fixed text), `…` for any text left out; the rest,
// `<SECRET_KEY>` included, is literal.
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const startPattern = (start: string) => new RegExp('^' + start.split(/(…|<[^>]*[a-z][^>]*>)/)
  .map((part) => part === '…' ? '[\\s\\S]*' : /^<.*[a-z].*>$/.test(part) ? `[\\s\\S]*?${HOLE}[\\s\\S]*?` : escape(part)).join(''))

export function troubleshootingProblems (doc: string): string[] {
  const problems: string[] = []
  const covered = new Set<string>()
  const codes = new Set<string>()
  const errorTable = doc.split(/^## /m)[0] ?? '' // the first table; HTTP statuses and start-up follow
  for (const cells of tableRows(errorTable)) {
    const code = backticked(cells[0] ?? '')[0] as string
    const cell = cells[1] ?? ''
    const start = cell.slice(cell.indexOf('`') + 1, cell.lastIndexOf('`'))
    if (start === '' || !cell.startsWith('`')) { problems.push(`${code}: a row without a message start`); continue }
    codes.add(code)
    const pattern = startPattern(start)
    const hits = EMITTABLE.filter((e) => e.code === code && pattern.test(e.text))
    if (hits.length === 0) problems.push(`${code}: "${start}" is no message the relay emits with this code`)
    for (const hit of hits) covered.add(hit.name)
  }
  for (const code of Object.values(CODE)) if (!codes.has(code)) problems.push(`code "${code}" has no row`)
  for (const e of EMITTABLE) if (!covered.has(e.name)) problems.push(`${e.name} ("${e.text.replace(HOLE, '…')}") has no row`)
  for (const line of doc.split('\n')) {
    const m = /^\|\s*(\d{3})\s*\|\s*`([^`]+)`/.exec(line)
    if (m !== null && STATUS_TEXT[Number(m[1])]?.message !== m[2]) problems.push(`HTTP ${m[1]}: the relay says "${STATUS_TEXT[Number(m[1])]?.message}", the docs "${m[2]}"`)
  }
  for (const status of Object.keys(STATUS_TEXT)) {
    if (status !== '400' && !new RegExp(`^\\|\\s*${status}\\s*\\|`, 'm').test(doc)) problems.push(`HTTP ${status} has no row`)
  }
  return problems
}

// ---- Changelog, README, issue numbers ----

export function changelogProblems (changelog: string, version: string): string[] {
  const releases = [...changelog.matchAll(/^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$/gm)].map((m) => m[1])
  if (releases.length === 0) return ['no release heading "## [x.y.z] - YYYY-MM-DD"']
  return releases[0] === version ? [] : [`the newest release is ${releases[0]}, package.json says ${version}`]
}

export function readmeProblems (readme: string): string[] {
  const lines = readme.split('\n')
  const problems: string[] = []
  if (lines.length > 200) problems.push(`README.md has ${lines.length} lines (at most 200)`)
  const screen = lines.slice(0, 40).join('\n')
  for (const command of ['npm ci && npm run demo', 'npm ci && npm test']) {
    if (!screen.includes(command)) problems.push(`"${command}" is not in the README's first screen (40 lines)`)
  }
  return problems
}

export const issueNumbers = (file: string, text: string) =>
  [...text.matchAll(/\bissues?\s+#?\d+|(?<![\w/&])#\d+\b/gi)].map((m) => `${file}: "${m[0]}"`)

// ---- Operations: the outcomes of relay_qualys_calls_total ----

// Every outcome the relay counts (`onCall('…')` literals in its sources), beside which metric
// family it lands in: the cache's results go to relay_lookup_cache_total, a refusal of the
// credentials to relay_qualys_credentials_refused_total (as metrics.ts routes them).
export function callOutcomes (): { calls: Set<string>, cache: Set<string> } {
  const all = new Set(SOURCE_DIRS.filter((d) => d !== 'scripts').flatMap(sources)
    .flatMap((file) => [...read(file).matchAll(/\bonCall\('([a-z_]+)'\)/g)].map((m) => m[1] as string)))
  const cache = new Set([...all].filter((o) => o.startsWith('cache_') || o === 'coalesced').map((o) => o.replace('cache_', '')))
  const calls = new Set([...all].filter((o) => !o.startsWith('cache_') && o !== 'coalesced' && o !== 'credentials_refused'))
  return { calls, cache }
}

// Each outcome in its metric's row of docs/operations.md and in its help text (metrics.ts).
export function outcomeProblems (doc: string, metricsSource: string, outcomes = callOutcomes()): string[] {
  const problems: string[] = []
  const row = (metric: string) => tableRows(doc).find((cells) => (cells[0] ?? '').startsWith(`\`${metric}`))?.[1] ?? ''
  const help = (metric: string) => new RegExp(`name: '${metric}', help: '([^']*)'`).exec(metricsSource)?.[1] ?? ''
  for (const [metric, values] of [['relay_qualys_calls_total', outcomes.calls], ['relay_lookup_cache_total', outcomes.cache]] as const) {
    for (const value of values) {
      if (!row(metric).includes(`\`${value}\``)) problems.push(`${metric}: the outcome ${value} is not in docs/operations.md`)
      if (!help(metric).includes(value)) problems.push(`${metric}: the outcome ${value} is not in its help text`)
    }
  }
  return problems
}
