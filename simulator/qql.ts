// A small QQL evaluator for the simulator, written independently of the relay's query table.
// Terms joined by and/or/not with parentheses:
//   field: "value"   a phrase/prefix match, as Qualys does with double quotes: the field equals
//                    the value or starts with it at a word boundary, case-insensitively (a
//                    file.fullPath directory matches the files below it; "bublik" matches
//                    bublik.exe)
//   field: `value`   field: value   equality, case-insensitive
//   field:[a..b]     an inclusive range; field>=a, field>a, field<=b, field<b comparisons
// Ranges and comparisons work on indicator.score (numbers) and event.datetime (ISO times).

export type Event = Record<string, unknown>
type Match =
  | { kind: 'phrase' | 'equal', value: string }
  | { kind: 'range', lo: string, hi: string }
  | { kind: 'compare', op: '>' | '>=' | '<' | '<=', value: string }
type Node =
  | { op: 'or' | 'and', left: Node, right: Node }
  | { op: 'not', node: Node }
  | { op: 'term', field: string, match: Match }

// QQL search tokens → the JSON paths of the event that they search.
const FIELDS: Record<string, string[]> = {
  'file.hash.md5': ['file.md5', 'process.processFile.md5'],
  'file.hash.sha256': ['file.sha256', 'process.processFile.sha256'],
  'file.name': ['file.fileName', 'process.processName'],
  'file.fullPath': ['file.fullPath', 'process.fullPath'],
  'network.local.address.ip': ['network.localIP', 'network.localAddress.ip'],
  'network.remote.address.ip': ['network.remoteIP', 'network.remoteAddress.ip'],
  'network.remote.address.fqdn': ['network.remoteDns', 'network.remoteAddress.fqdn'],
  'handle.name': ['handle.name'],
  type: ['type'],
  'indicator.score': ['score'],
  'event.datetime': ['dateTime']
}

export class QqlError extends Error {
  override name = 'QqlError'
}

function tokenize (text: string): string[] {
  const tokens: string[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (/\s/.test(c)) { i++; continue }
    const two = text.slice(i, i + 2)
    if (two === '>=' || two === '<=' || two === '..') { tokens.push(two); i += 2; continue }
    if ('():[]<>'.includes(c)) { tokens.push(c); i++; continue }
    if (c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1)
      if (end < 0) throw new QqlError('unterminated string')
      tokens.push(text.slice(i, end + 1))
      i = end + 1
      continue
    }
    const m = /^[^\s():"`[\]<>=.]+(\.[^\s():"`[\]<>=.]+)*/.exec(text.slice(i))
    if (m === null) throw new QqlError(`unexpected ${c}`)
    tokens.push(m[0])
    i += m[0].length
  }
  return tokens
}

const unquote = (raw: string) => /^["`]/.test(raw) ? raw.slice(1, -1) : raw

export function parse (text: string): Node {
  const tokens = tokenize(text)
  let pos = 0
  const peek = () => tokens[pos]?.toLowerCase()
  const next = () => {
    const t = tokens[pos++]
    if (t === undefined) throw new QqlError('unexpected end of query')
    return t
  }
  const expect = (t: string) => { if (next() !== t) throw new QqlError(`expected ${t}`) }
  function expr (): Node {
    let left = term()
    while (peek() === 'or') { pos++; left = { op: 'or', left, right: term() } }
    return left
  }
  function term (): Node {
    let left = factor()
    while (peek() === 'and') { pos++; left = { op: 'and', left, right: factor() } }
    return left
  }
  function factor (): Node {
    const t = next()
    if (t === '(') {
      const node = expr()
      expect(')')
      return node
    }
    if (t.toLowerCase() === 'not') return { op: 'not', node: factor() }
    if (!(t in FIELDS)) throw new QqlError(`unknown field ${t}`)
    const op = next()
    if (op === '>' || op === '>=' || op === '<' || op === '<=') return { op: 'term', field: t, match: { kind: 'compare', op, value: unquote(next()) } }
    if (op !== ':') throw new QqlError('expected :')
    if (peek() === '[') {
      pos++
      const lo = unquote(next())
      expect('..')
      const hi = unquote(next())
      expect(']')
      return { op: 'term', field: t, match: { kind: 'range', lo, hi } }
    }
    const raw = next()
    return { op: 'term', field: t, match: { kind: raw.startsWith('"') ? 'phrase' : 'equal', value: unquote(raw) } }
  }
  const node = expr()
  if (pos !== tokens.length) throw new QqlError(`unexpected ${tokens[pos]}`)
  return node
}

function get (event: Event, path: string): unknown {
  let cur: unknown = event
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

// A number for indicator.score, epoch ms for event.datetime (Qualys writes +0000 offsets).
export function ordinal (field: string, value: unknown): number {
  if (field === 'event.datetime') return typeof value === 'string' ? Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : NaN
  return typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN
}

function phrase (have: string, wanted: string): boolean {
  if (have === wanted) return true
  if (!have.startsWith(wanted) || wanted === '') return false
  return !/[\p{L}\p{N}]/u.test(have.charAt(wanted.length)) || !/[\p{L}\p{N}]/u.test(wanted.charAt(wanted.length - 1))
}

function termMatches (event: Event, field: string, match: Match): boolean {
  return (FIELDS[field] ?? []).some((path) => {
    const v = get(event, path)
    if (match.kind === 'range' || match.kind === 'compare') {
      const x = ordinal(field, v)
      if (Number.isNaN(x)) return false
      if (match.kind === 'range') return x >= ordinal(field, match.lo) && x <= ordinal(field, match.hi)
      const y = ordinal(field, match.value)
      return match.op === '>' ? x > y : match.op === '>=' ? x >= y : match.op === '<' ? x < y : x <= y
    }
    if (typeof v !== 'string' && typeof v !== 'number') return false
    const have = String(v).toLowerCase()
    const wanted = match.value.toLowerCase()
    return match.kind === 'phrase' ? phrase(have, wanted) : have === wanted
  })
}

export function matches (node: Node, event: Event): boolean {
  switch (node.op) {
    case 'or': return matches(node.left, event) || matches(node.right, event)
    case 'and': return matches(node.left, event) && matches(node.right, event)
    case 'not': return !matches(node.node, event)
    default: return termMatches(event, node.field, node.match)
  }
}

// Qualys' sort parameter, e.g. [{"event.datetime":"desc"}]: a comparator, or a QqlError.
// Events without the field come last, as Elasticsearch puts missing values.
export function sorter (raw: string): (a: Event, b: Event) => number {
  let spec: unknown
  try { spec = JSON.parse(raw) } catch { throw new QqlError('invalid sort') }
  const keys = Array.isArray(spec) ? spec : [spec]
  const order = keys.map((k) => {
    const [field, dir] = Object.entries((k ?? {}) as Record<string, unknown>)[0] ?? []
    if (field?.toLowerCase() !== 'event.datetime' || (dir !== 'asc' && dir !== 'desc')) throw new QqlError(`invalid sort ${raw}`)
    return dir === 'desc' ? -1 : 1
  })
  return (a, b) => {
    for (const sign of order) {
      const x = ordinal('event.datetime', a.dateTime)
      const y = ordinal('event.datetime', b.dateTime)
      if (Number.isNaN(x) || Number.isNaN(y)) {
        if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1
        continue
      }
      if (x !== y) return sign * (x - y)
    }
    return 0
  }
}
