// A small QQL evaluator for the simulator, written independently of the relay's query table:
// `field: "value"` terms joined by and/or/not with parentheses. A quoted value matches a field
// equal to it (case-insensitive); on file.fullPath it also matches files under that directory,
// as Qualys' phrase match did in the reference relay's recordings.

export type Event = Record<string, unknown>
type Node =
  | { op: 'or' | 'and', left: Node, right: Node }
  | { op: 'not', node: Node }
  | { op: 'term', field: string, value: string }

// QQL search tokens → the JSON paths of the event that they search.
const FIELDS: Record<string, string[]> = {
  'file.hash.md5': ['file.md5', 'process.processFile.md5'],
  'file.hash.sha256': ['file.sha256', 'process.processFile.sha256'],
  'file.name': ['file.fileName'],
  'file.fullPath': ['file.fullPath'],
  'network.local.address.ip': ['network.localIP'],
  'network.remote.address.ip': ['network.remoteIP'],
  'network.remote.address.fqdn': ['network.remoteDns'],
  'handle.name': ['handle.name'],
  type: ['type']
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
    if (c === '(' || c === ')' || c === ':') { tokens.push(c); i++; continue }
    if (c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1)
      if (end < 0) throw new QqlError('unterminated string')
      tokens.push(text.slice(i, end + 1))
      i = end + 1
      continue
    }
    const m = /^[^\s():"`]+/.exec(text.slice(i))
    if (m === null) throw new QqlError(`unexpected ${c}`)
    tokens.push(m[0])
    i += m[0].length
  }
  return tokens
}

export function parse (text: string): Node {
  const tokens = tokenize(text)
  let pos = 0
  const peek = () => tokens[pos]?.toLowerCase()
  const next = () => {
    const t = tokens[pos++]
    if (t === undefined) throw new QqlError('unexpected end of query')
    return t
  }
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
      if (next() !== ')') throw new QqlError('missing )')
      return node
    }
    if (t.toLowerCase() === 'not') return { op: 'not', node: factor() }
    if (!(t in FIELDS)) throw new QqlError(`unknown field ${t}`)
    if (next() !== ':') throw new QqlError('expected :')
    const raw = next()
    const value = /^["`]/.test(raw) ? raw.slice(1, -1) : raw
    return { op: 'term', field: t, value }
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

function termMatches (event: Event, field: string, value: string): boolean {
  const wanted = value.toLowerCase()
  return (FIELDS[field] ?? []).some((path) => {
    const v = get(event, path)
    if (typeof v !== 'string') return false
    const have = v.toLowerCase()
    if (have === wanted) return true
    return field === 'file.fullPath' && have.startsWith(wanted.endsWith('\\') ? wanted : `${wanted}\\`)
  })
}

export function matches (node: Node, event: Event): boolean {
  switch (node.op) {
    case 'or': return matches(node.left, event) || matches(node.right, event)
    case 'and': return matches(node.left, event) && matches(node.right, event)
    case 'not': return !matches(node.node, event)
    default: return termMatches(event, node.field, node.value)
  }
}
