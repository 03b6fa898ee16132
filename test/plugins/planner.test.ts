import t from 'tap'
import { RelayError } from '../../lib/errors.js'
import { lookupBatch } from '../../plugins/app/qualys/lookup/batch.js'
import { lookupOne } from '../../plugins/app/qualys/lookup/single.js'
import type { EventsRequest, Events, Lookup, QualysEvent } from '../../schemas/qualys.js'

// The lookup planner (one observable's pages, batches and their splits) against a fake `events`,
// the one function it depends on: no simulator, no HTTP, every answer and every expected request
// written here by hand. The fake reads a filter as clauses joined by " or " (`token: "value"`),
// answers the union of the clauses' events newest first, a page at a time, and can refuse or fail
// a batch.

interface Fake { events: Events, asked: EventsRequest[] }
type Table = Record<string, { active?: QualysEvent[], historical?: QualysEvent[] }>

const at = (minute: number) => `2026-12-01T10:${String(minute).padStart(2, '0')}:00.000+0000`
const sha = (value: string, id: string, minute: number): QualysEvent => ({ id, dateTime: at(minute), file: { sha256: value } })
const many = (value: string, n: number, state: string) =>
  Array.from({ length: n }, (_, i) => ({ id: `${state}-${value}-${i}`, dateTime: `2026-11-${String(30 - Math.floor(i / 100)).padStart(2, '0')}T00:00:00.000+0000`, file: { sha256: value } }))

function fake (table: Table, opts: { refuseOver?: number, fail?: (clauses: string[]) => RelayError | undefined } = {}): Fake {
  const asked: EventsRequest[] = []
  const events: Events = async (request) => {
    asked.push(request)
    const clauses = request.filter.split(' or ')
    if (request.batch === true && opts.refuseOver !== undefined && clauses.length > opts.refuseOver) return { refused: 414 }
    const failure = opts.fail?.(clauses)
    if (failure !== undefined) throw failure
    const seen = new Map<string, QualysEvent>()
    for (const clause of clauses) for (const e of table[clause]?.[request.state] ?? []) seen.set(e.id as string, e)
    const sorted = [...seen.values()].sort((a, b) => String(b.dateTime).localeCompare(String(a.dateTime)))
    const from = (request.pageNumber ?? 0) * request.pageSize
    return sorted.slice(from, from + request.pageSize)
  }
  return { events, asked }
}

const item = (value: string): Lookup => ({ type: 'sha256', value })
const clause = (value: string) => `file.hash.sha256: "${value}"`
const ids = (found: { events: QualysEvent[] }) => found.events.map((e) => e.id)

t.test('one observable: Active with the limit, pages of at most 1,000, Historical only for the room left', async (t) => {
  const { events, asked } = fake({ [clause('a1')]: { active: many('a1', 2500, 'act'), historical: many('a1', 10, 'hist') } })
  const looked = await lookupOne(events, item('a1'), 1500)
  t.equal(looked.active.events.length, 1500)
  t.same(looked.historical.events, [], 'the limit is full: Historical is not asked')
  t.same(asked.map((r) => [r.state, r.pageSize, r.pageNumber ?? 0]), [['active', 1000, 0], ['active', 1000, 1]])

  const few = fake({ [clause('b2')]: { active: [sha('b2', 'x1', 5), sha('b2', 'x2', 9), sha('b2', 'x3', 1)], historical: [sha('b2', 'h1', 3), sha('b2', 'h2', 7), sha('b2', 'h3', 2)] } })
  const some = await lookupOne(few.events, item('b2'), 5)
  t.same(ids(some.active), ['x2', 'x1', 'x3'], 'newest first')
  t.same(ids(some.historical), ['h2', 'h1'], 'Historical fills the 2 left')
  t.same(few.asked.map((r) => [r.state, r.pageSize]), [['active', 5], ['historical', 2]])
})

t.test('one observable: a failed page keeps what the earlier pages found, with the error', async (t) => {
  const base = fake({ [clause('c3')]: { active: many('c3', 1500, 'act') } })
  const failing: Events = async (request) => {
    if ((request.pageNumber ?? 0) === 1) throw new RelayError('timeout', 'Qualys IOC did not answer in time (limit 25000 ms)')
    return base.events(request)
  }
  const looked = await lookupOne(failing, item('c3'), 1500)
  t.equal(looked.active.events.length, 1000, 'the first page is kept')
  t.match(looked.active.error, { code: 'timeout' })
})

const FOUR: Table = {
  [clause('a')]: { active: [sha('a', 'a1', 10)], historical: [sha('a', 'ah', 1)] },
  [clause('b')]: { active: [sha('b', 'b1', 11)] },
  [clause('c')]: { active: [sha('c', 'c1', 12)], historical: [sha('c', 'ch', 2)] },
  [clause('d')]: { active: [sha('d', 'd1', 13)] }
}
const EXPECTED = { a: [['a1'], ['ah']], b: [['b1'], []], c: [['c1'], ['ch']], d: [['d1'], []] }
const group = ['a', 'b', 'c', 'd'].map(item)
const shape = (looked: Array<{ active: { events: QualysEvent[] }, historical: { events: QualysEvent[] } }>) =>
  Object.fromEntries(looked.map((l, i) => [['a', 'b', 'c', 'd'][i], [ids(l.active), ids(l.historical)]]))

t.test('a batch: one call per state, each observable given its own events', async (t) => {
  const { events, asked } = fake(FOUR)
  const { looked, splits } = await lookupBatch(events, group, 10)
  t.same(shape(looked), EXPECTED)
  t.equal(splits, 0)
  t.same(asked.map((r) => [r.state, r.filter, r.pageSize, r.batch]), [
    ['active', 'file.hash.sha256: "a" or file.hash.sha256: "b" or file.hash.sha256: "c" or file.hash.sha256: "d"', 40, true],
    ['historical', 'file.hash.sha256: "a" or file.hash.sha256: "b" or file.hash.sha256: "c" or file.hash.sha256: "d"', 40, true]
  ])
})

t.test('a batch refused for its size halves (counted as splits), the same answer as one by one', async (t) => {
  const { events, asked } = fake(FOUR, { refuseOver: 2 })
  const { looked, splits } = await lookupBatch(events, group, 10)
  t.same(shape(looked), EXPECTED)
  t.equal(splits, 2, 'one split per state')
  t.equal(asked.length, 6, 'per state: the refused batch, then its two halves')
})

t.test('a failure that may be one observable\'s isolates it; the others keep their events', async (t) => {
  const unavailable = new RelayError('service unavailable', 'Service temporarily unavailable. Please try again later.')
  const { events } = fake(FOUR, { fail: (clauses) => clauses.includes(clause('d')) ? unavailable : undefined })
  const { looked, splits } = await lookupBatch(events, group, 10)
  t.same(looked.slice(0, 3).map((l) => [ids(l.active), ids(l.historical)]), [[['a1'], ['ah']], [['b1'], []], [['c1'], ['ch']]])
  t.equal(looked[3]?.active.error, unavailable, 'd alone carries the error')
  t.equal(splits, 4, 'per state: the four halved, then c and d')
})

t.test('both halves failing alike is Qualys\' failure: every observable gets it, no further split', async (t) => {
  const unavailable = new RelayError('service unavailable', 'Service temporarily unavailable. Please try again later.')
  const { events, asked } = fake(FOUR, { fail: () => unavailable })
  const { looked } = await lookupBatch(events, group, 10)
  for (const l of looked) t.equal(l.active.error, unavailable)
  t.equal(asked.length, 6, '3 calls per state: the batch and its two halves')
})

t.test('an event a batch cannot assign by equality: that observable is asked alone', async (t) => {
  const table: Table = {
    'file.name: "setup"': { active: [{ id: 'n1', dateTime: at(20), file: { fileName: 'setup.exe' } }] },
    'file.name: "calc.exe"': { active: [{ id: 'n2', dateTime: at(21), file: { fileName: 'calc.exe' } }] }
  }
  const { events, asked } = fake(table)
  const { looked, splits } = await lookupBatch(events, [{ type: 'file_name', value: 'setup' }, { type: 'file_name', value: 'calc.exe' }], 10)
  t.same(looked.map((l) => ids(l.active)), [['n1'], ['n2']], 'what one-by-one lookups give')
  t.ok(asked.some((r) => r.filter === 'file.name: "setup"' && r.state === 'active' && r.batch !== true), '"setup" asked alone')
  t.notOk(asked.some((r) => r.filter === 'file.name: "calc.exe"'), '"calc.exe" keeps the batch\'s answer: never asked alone')
  t.equal(splits, 0, 'no split: only the observable in doubt is asked again')
})
