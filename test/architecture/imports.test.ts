import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import ts from 'typescript'
import { ROOT } from '../helper.js'

// The house's floors, read from the imports themselves (type-only imports and re-exports count:
// a circle through types is still a circle): no import circle, and no arrow from a lower room up
// to a higher one.
const SOURCES = ['app.ts', 'server.ts', 'lib', 'plugins', 'routes', 'schemas', 'scripts', 'simulator', 'bench']

type Graph = Map<string, string[]>

function files (entry: string): string[] {
  const full = path.join(ROOT, entry)
  if (statSync(full).isFile()) return entry.endsWith('.ts') ? [entry] : []
  return readdirSync(full).flatMap((name) => files(path.join(entry, name)))
}

// Each source file's relative imports, as paths from the root (`./x.js` is the file `./x.ts`).
export function importGraph (): Graph {
  const graph: Graph = new Map()
  for (const file of SOURCES.flatMap(files)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true)
    graph.set(file, importedFiles.map((i) => i.fileName).filter((name) => name.startsWith('.'))
      .map((name) => path.normalize(path.join(path.dirname(file), name)).replace(/\.(m?js)$/, (ext) => ext === '.js' ? '.ts' : ext)))
  }
  return graph
}

// Every import circle (strongly connected component of more than one file, or a file importing
// itself), each as its files in order.
export function circles (graph: Graph): string[][] {
  let index = 0
  const stack: string[] = []
  const on = new Set<string>()
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const found: string[][] = []
  const visit = (v: string) => {
    idx.set(v, index); low.set(v, index); index++
    stack.push(v); on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v) as number, low.get(w) as number)) } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = []
      let w: string
      do { w = stack.pop() as string; on.delete(w); scc.push(w) } while (w !== v)
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort())
    }
  }
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v)
  return found
}

// Which rooms a room may not import from: [importer's folder, forbidden folders, why].
export const RULES: Array<[string, string[], string]> = [
  ['schemas/', ['lib/', 'plugins/', 'routes/', 'scripts/', 'simulator/', 'bench/', 'test/'], 'the domain types and contracts import nothing of the relay'],
  ['lib/', ['plugins/', 'routes/', 'scripts/', 'simulator/', 'bench/', 'test/'], 'framework-free code knows no plugin or route'],
  ['plugins/', ['routes/', 'scripts/', 'simulator/', 'bench/', 'test/'], 'plugins are below the routes'],
  ['routes/', ['scripts/', 'simulator/', 'bench/', 'test/'], 'the routes are the relay, not its tools'],
  ['plugins/app/ctim/', ['plugins/app/tiles/', 'plugins/app/qualys/', 'plugins/app/auth/'], 'the CTIM builder reads events only'],
  ['plugins/app/tiles/', ['plugins/app/ctim/'], 'the tiles and the CTIM builder share code through lib/'],
  ['simulator/', ['app.ts', 'server.ts', 'lib/', 'plugins/', 'routes/', 'schemas/', 'scripts/', 'bench/', 'test/'], 'the simulator is written independently of the relay'],
  ['app.ts', ['scripts/', 'simulator/', 'bench/', 'test/'], 'the app is the relay only'],
  ['server.ts', ['scripts/', 'simulator/', 'bench/', 'test/'], 'the server is the relay only']
]

export function upwardArrows (graph: Graph): string[] {
  const found: string[] = []
  for (const [file, imports] of graph) {
    for (const [room, forbidden, why] of RULES) {
      if (!(file === room || (room.endsWith('/') && file.startsWith(room)))) continue
      for (const target of imports) {
        const hit = forbidden.find((f) => target === f || (f.endsWith('/') && target.startsWith(f)))
        if (hit !== undefined) found.push(`${file} → ${target} (${why})`)
      }
    }
  }
  return found.sort()
}

t.test('the relay has no import circle', async (t) => {
  const graph = importGraph()
  t.ok(graph.size > 100, `${graph.size} source files read`)
  t.same(circles(graph).map((c) => c.join(' → ')), [])
})

t.test('no import goes from a lower room up to a higher one', async (t) => {
  t.same(upwardArrows(importGraph()), [])
})

// Framework-free rooms: lib/ and schemas/ never import the framework (a Fastify plugin, decorator
// or request lives under plugins/ or routes/).
export function frameworkImports (): string[] {
  return ['lib', 'schemas'].flatMap(files).flatMap((file) =>
    ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true).importedFiles
      .map((i) => i.fileName).filter((name) => name === 'fastify' || name === 'fastify-plugin')
      .map((name) => `${file} → ${name}`))
}

t.test('lib/ and schemas/ are framework-free', async (t) => {
  t.same(frameworkImports(), [])
})

t.test('the checks find a circle and an upward arrow when there is one', async (t) => {
  const graph: Graph = new Map([
    ['plugins/app/qualys/a.ts', ['plugins/app/qualys/b.ts']],
    ['plugins/app/qualys/b.ts', ['plugins/app/qualys/c.ts']],
    ['plugins/app/qualys/c.ts', ['plugins/app/qualys/a.ts', 'lib/x.ts']],
    ['lib/x.ts', ['plugins/app/qualys/b.ts']],
    ['schemas/y.ts', ['schemas/y.ts']],
    ['plugins/app/tiles/t.ts', ['plugins/app/ctim/mapping.ts', 'lib/x.ts']],
    ['plugins/app/ctim/mapping.ts', []]
  ])
  t.same(circles(graph), [['lib/x.ts', 'plugins/app/qualys/a.ts', 'plugins/app/qualys/b.ts', 'plugins/app/qualys/c.ts'], ['schemas/y.ts']])
  t.same(upwardArrows(graph), [
    'lib/x.ts → plugins/app/qualys/b.ts (framework-free code knows no plugin or route)',
    'plugins/app/tiles/t.ts → plugins/app/ctim/mapping.ts (the tiles and the CTIM builder share code through lib/)'
  ])
})

// No side door to Qualys: in the relay, only the transport (the bottom of the client's one stack)
// sends anything, the login included; nothing else in plugins/ or routes/ imports the protocol's
// exchanges (login, get) or starts a timer of its own for a Qualys call (AbortSignal.timeout).
// The tenant check (scripts/) is a tool of its own and talks to the protocol directly.
const TRANSPORT = 'plugins/app/qualys/layers/transport.ts'
const EXCHANGES = new Set(['login', 'get'])

export function sideDoors (sources: Array<[string, string]>): string[] {
  const found: string[] = []
  for (const [file, text] of sources) {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest)
    for (const node of source.statements) {
      if (!ts.isImportDeclaration(node) || !ts.isStringLiteral(node.moduleSpecifier)) continue
      const target = path.normalize(path.join(path.dirname(file), node.moduleSpecifier.text)).replace(/\.js$/, '.ts')
      const bindings = node.importClause?.namedBindings
      if (target !== 'lib/qualys/protocol.ts' || bindings === undefined || !ts.isNamedImports(bindings) || file === TRANSPORT) continue
      for (const el of bindings.elements) {
        const name = (el.propertyName ?? el.name).text
        if (EXCHANGES.has(name) && el.isTypeOnly !== true && node.importClause?.isTypeOnly !== true) found.push(`${file} → ${name}`)
      }
    }
    if (file.startsWith('plugins/app/qualys/') && text.includes('AbortSignal.timeout(')) found.push(`${file} → AbortSignal.timeout`)
  }
  return found.sort()
}

const relaySources = (): Array<[string, string]> => ['app.ts', 'server.ts', 'plugins', 'routes'].flatMap(files)
  .map((file) => [file, readFileSync(path.join(ROOT, file), 'utf8')])

t.test('only the transport sends to Qualys: the login too goes down the one stack', async (t) => {
  const sources = relaySources()
  t.ok(sources.some(([file]) => file === TRANSPORT), 'the transport is read')
  t.same(sideDoors(sources), [])
})

t.test('the side-door check finds a login or a timer outside the stack', async (t) => {
  t.same(sideDoors([
    ['plugins/app/qualys/token.ts', "import { login as signIn, readToken } from '../../../lib/qualys/protocol.js'\n"],
    ['routes/health/index.ts', "import { get } from '../../lib/qualys/protocol.js'\n"],
    ['plugins/app/qualys/health.ts', "import type { get } from '../../../lib/qualys/protocol.js'\nconst s = AbortSignal.timeout(5)\n"],
    [TRANSPORT, "import { get, login } from '../../../../lib/qualys/protocol.js'\n"]
  ]), [
    'plugins/app/qualys/health.ts → AbortSignal.timeout',
    'plugins/app/qualys/token.ts → login',
    'routes/health/index.ts → get'
  ])
})
