import t from 'tap'
import { parse, matches, QqlError } from '../../simulator/qql.js'
import { startSimulator } from '../../simulator/index.js'

t.test('the simulator’s QQL', async (t) => {
  const file = { type: 'FILE', file: { md5: 'ABC', fullPath: 'C:\\Dir\\Sub\\a.exe', fileName: 'a.exe' } }
  const proc = { type: 'PROCESS', process: { processFile: { md5: 'def' } } }
  const net = { network: { localIP: '10.0.0.1', remoteIP: '1.2.3.4', remoteDns: 'x.example' } }
  t.ok(matches(parse('file.hash.md5: "abc"'), file), 'case-insensitive')
  t.ok(matches(parse('file.hash.md5: "DEF"'), proc), 'process file hashes')
  t.notOk(matches(parse('file.hash.md5: "ab"'), file), 'no partial hash')
  t.ok(matches(parse('file.fullPath: "C:\\Dir"'), file), 'a directory matches the files under it')
  t.notOk(matches(parse('file.fullPath: "C:\\Di"'), file))
  t.ok(matches(parse('network.local.address.ip: "9.9.9.9" or network.remote.address.ip: "1.2.3.4"'), net))
  t.notOk(matches(parse('network.local.address.ip: "10.0.0.1" and network.remote.address.fqdn: "y.example"'), net))
  t.ok(matches(parse('(type: FILE or type: PROCESS) and not file.name: `b.exe`'), file))
  for (const bad of ['file.hash.md5 "x"', 'nope.field: "x"', 'file.name: "x', '(file.name: "x"', 'file.name: "x")', 'file.name: "x" or', '"x"']) {
    t.throws(() => parse(bad), QqlError, bad)
  }
})

t.test('the simulator over HTTP: paging, bad requests, unknown paths', async (t) => {
  const sim = await startSimulator()
  t.teardown(() => sim.close())
  const login = await fetch(`${sim.url}/auth`, { method: 'POST', body: new URLSearchParams({ username: 'demo', password: 'demo-password', token: 'true' }) })
  t.equal(login.status, 201)
  const token = await login.text()
  const get = (q: string) => fetch(`${sim.url}/ioc/events?${q}`, { headers: { authorization: `Bearer ${token}` } })
  const page0 = await (await get('pageSize=2&pageNumber=0&state=true')).json() as Array<{ id: string }>
  const page1 = await (await get('pageSize=2&pageNumber=1&state=true')).json() as Array<{ id: string }>
  t.equal(page0.length, 2)
  t.not(page0[0].id, page1[0].id)
  t.equal((await get('pageSize=0')).status, 400)
  t.equal((await get('pageSize=5&filter=' + encodeURIComponent('bogus: "x"'))).status, 400)
  t.equal((await fetch(`${sim.url}/ioc/events?pageSize=1`)).status, 401)
  t.equal((await fetch(`${sim.url}/other`)).status, 404)
  t.equal((await fetch(`${sim.url}/auth`, { method: 'POST', body: 'username=demo' })).status, 400)
})

t.test('the simulator’s QQL: phrase/prefix matches, equality, ranges and comparisons', async (t) => {
  const file = { type: 'FILE', dateTime: '2025-11-26T04:50:00.000+0000', score: '8', file: { fileName: 'bublik.exe', fullPath: 'C:\\Dir\\Sub\\a.exe' }, process: { processName: 'Explorer.EXE' } }
  t.ok(matches(parse('file.name: "bublik"'), file), 'a quoted name is a prefix at a word boundary')
  t.notOk(matches(parse('file.name: "bubli"'), file), 'not inside a word')
  t.ok(matches(parse('file.name: "explorer.exe"'), file), 'process names are searched, case-insensitively')
  t.notOk(matches(parse('file.name: `bublik`'), file), 'backticks: equality only')
  t.ok(matches(parse('file.name: `BUBLIK.EXE`'), file))
  t.ok(matches(parse('file.fullPath: "c:\\dir\\"'), file), 'a directory with its trailing separator')
  t.ok(matches(parse('type: file and indicator.score>=8'), file))
  t.notOk(matches(parse('indicator.score>8'), file))
  t.ok(matches(parse('indicator.score<=8 and indicator.score<9'), file))
  t.ok(matches(parse('indicator.score:[2..8]'), file))
  t.notOk(matches(parse('indicator.score:[2..7]'), file))
  t.notOk(matches(parse('indicator.score>=0'), { type: 'FILE' }), 'no score, no match')
  t.ok(matches(parse('event.datetime:["2025-11-26T04:48:00.000Z".."2025-11-26T05:24:00.000Z"]'), file))
  t.notOk(matches(parse('event.datetime:["2025-11-26T05:00:00.000Z".."2025-11-26T05:24:00.000Z"]'), file))
  t.ok(matches(parse('event.datetime>="2025-11-26T00:00:00Z"'), file))
  for (const bad of ['indicator.score:[1..', 'indicator.score:[1 2]', 'indicator.score=3']) t.throws(() => parse(bad), QqlError, bad)
})

t.test('the simulator sorts on event.datetime and reports its rate limit', async (t) => {
  const at = (d: string) => ({ id: d, type: 'MUTEX', dateTime: `2024-01-0${d}T00:00:00.000+0000`, handle: { name: 'M' } })
  const sim = await startSimulator({
    fixtures: { active: [at('2'), { id: 'none', type: 'MUTEX', handle: { name: 'M' } }, at('3'), at('1')], historical: [] },
    rateLimit: { limit: 3, windowSec: 60 }
  })
  t.teardown(() => sim.close())
  const login = await fetch(`${sim.url}/auth`, { method: 'POST', body: new URLSearchParams({ username: 'demo', password: 'demo-password', token: 'true' }) })
  const token = await login.text()
  const get = (sort?: string) => fetch(`${sim.url}/ioc/events?pageSize=10&state=true${sort === undefined ? '' : `&sort=${encodeURIComponent(sort)}`}`,
    { headers: { authorization: `Bearer ${token}` } })
  const desc = await get('[{"event.datetime":"desc"}]')
  t.same((await desc.json() as Array<{ id: string }>).map((e) => e.id), ['3', '2', '1', 'none'], 'newest first, no time last')
  t.same([desc.headers.get('x-ratelimit-limit'), desc.headers.get('x-ratelimit-remaining'), desc.headers.get('x-ratelimit-window-sec')], ['3', '2', '60'])
  const asc = await get('[{"event.datetime":"asc"}]')
  t.same((await asc.json() as Array<{ id: string }>).map((e) => e.id), ['1', '2', '3', 'none'])
  t.equal(asc.headers.get('x-ratelimit-remaining'), '1')
  t.equal((await get('[{"nope":"desc"}]')).status, 400, 'an unknown sort field is refused')
  const spent = await get()
  t.equal(spent.status, 429, 'the budget is spent')
  t.equal(spent.headers.get('x-ratelimit-remaining'), '0')
  t.ok(Number(spent.headers.get('x-ratelimit-towait-sec')) > 0)
})

t.test('the simulator counts logins, calls and calls in flight per user', async (t) => {
  const sim = await startSimulator({ accounts: { demo: 'demo-password', eve: 'eve-password' }, latencyMs: 100 })
  t.teardown(() => sim.close())
  const login = async (username: string, password: string) =>
    (await fetch(`${sim.url}/auth`, { method: 'POST', body: new URLSearchParams({ username, password, token: 'true' }) })).text()
  const [demo, eve] = [await login('demo', 'demo-password'), await login('eve', 'eve-password')]
  const get = (token: string) => fetch(`${sim.url}/ioc/events?pageSize=1&state=true`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text())
  await Promise.all([get(demo), get(demo), get(demo), get(eve)])
  await get(eve)
  t.same(sim.byUser.demo, { logins: 1, events: 3, inFlight: 0, maxInFlight: 3 })
  t.same(sim.byUser.eve, { logins: 1, events: 2, inFlight: 0, maxInFlight: 1 })
  sim.reset()
  t.same(sim.byUser, {})
})

t.test('time buckets as Qualys documents them: the docs\' literal sample (qualys-api.md §2.6)', async (t) => {
  // Events at known times around the sample's window (2025-11-26T05:18:41Z .. 08:18:41Z).
  const ev = (id: string, iso: string) => ({ id, type: 'FILE', dateTime: iso.replace('Z', '+0000') })
  const historical = [
    ev('before', '2025-11-26T05:00:00.000Z'), // in the first bucket's span, but before fromDate: not counted
    ev('first', '2025-11-26T05:20:00.000Z'),
    ev('second', '2025-11-26T05:24:00.000Z'), // on a key: the later bucket
    ev('last', '2025-11-26T07:47:59.000Z'),
    ev('tail', '2025-11-26T08:00:00.000Z') // after the last bucket: in none
  ]
  const sim = await startSimulator({ fixtures: { active: [], historical } })
  t.teardown(() => sim.close())
  const token = await (await fetch(`${sim.url}/auth`, { method: 'POST', body: new URLSearchParams({ username: 'demo', password: 'demo-password', token: 'true' }) })).text()
  const res = await fetch(`${sim.url}/ioc/events/count/time-buckets?fromDate=1764134321&toDate=1764145121&bucketCount=5`, { headers: { authorization: `Bearer ${token}` } })
  t.same(await res.json(), {
    '2025-11-26T04:48:00.000Z_2025-11-26T05:24:00.000Z': 1,
    '2025-11-26T05:24:00.000Z_2025-11-26T06:00:00.000Z': 1,
    '2025-11-26T06:00:00.000Z_2025-11-26T06:36:00.000Z': 0,
    '2025-11-26T06:36:00.000Z_2025-11-26T07:12:00.000Z': 0,
    '2025-11-26T07:12:00.000Z_2025-11-26T07:48:00.000Z': 1
  }, 'the five keys from 04:48:00Z, 36 minutes wide; the 07:48–08:18:41 tail in none')
})

t.test('the simulator plays a subscription: one budget for every user and tool, a fixed window, the documented headers', async (t) => {
  const sim = await startSimulator({ accounts: { demo: 'demo-password', eve: 'eve-password' }, rateLimit: { limit: 4, windowSec: 2 } })
  t.teardown(() => sim.close())
  const login = async (username: string, password: string) =>
    (await fetch(`${sim.url}/auth`, { method: 'POST', body: new URLSearchParams({ username, password, token: 'true' }) })).text()
  const [demo, eve] = [await login('demo', 'demo-password'), await login('eve', 'eve-password')]
  const get = async (token: string) => {
    const res = await fetch(`${sim.url}/ioc/events/count?filter=type%3Afile`, { headers: { authorization: `Bearer ${token}` } })
    await res.body?.cancel()
    return { status: res.status, remaining: res.headers.get('x-ratelimit-remaining'), wait: res.headers.get('x-ratelimit-towait-sec') }
  }
  // Wait for the start of a window (windows are cut from the simulator's start, every 2 s).
  await new Promise((resolve) => setTimeout(resolve, 2000 - sim.clock() % 2000 + 50))
  t.same(await get(demo), { status: 200, remaining: '3', wait: null })
  t.equal(sim.spend(1), 1, 'another consumer spends one call')
  t.same(await get(eve), { status: 200, remaining: '1', wait: null }, 'eve spends from the same budget')
  t.equal(sim.budgetLeft(), 1)
  t.equal(sim.spend(3), 1, 'the other consumer gets one more call, then is refused like anyone')
  const spent = await get(demo)
  t.equal(spent.status, 429)
  t.equal(spent.remaining, '0')
  t.ok(Number(spent.wait) >= 1 && Number(spent.wait) <= 2, `X-RateLimit-ToWait-Sec ${spent.wait}: until the window ends`)
  await new Promise((resolve) => setTimeout(resolve, 2000 - sim.clock() % 2000 + 50))
  t.same(await get(eve), { status: 200, remaining: '3', wait: null }, 'a new window: the whole budget again')
})

t.test('the simulator\'s other budgets: a sliding window per subscription or per user, and headers missing, empty or garbage', async (t) => {
  const at = (ms: number) => ms
  const { rateLimiter } = await import('../../simulator/rate-limit.js')
  const sliding = rateLimiter({ limit: 2, windowSec: 10, mode: 'subscription-sliding' }, 0)
  const h: Record<string, string> = {}
  t.equal(sliding.spend('a', h, at(0)), false)
  t.equal(sliding.spend('b', h, at(4000)), false)
  t.equal(sliding.spend('a', h, at(9000)), true, 'two calls in the last 10 s: spent')
  t.equal(h['x-ratelimit-towait-sec'], '1', 'until the call at 0 s leaves the window')
  t.equal(sliding.spend('a', {}, at(10_001)), false, 'the first call left the window')
  const perUser = rateLimiter({ limit: 1, windowSec: 10, mode: 'user-sliding' }, 0)
  t.equal(perUser.spend('a', {}, 0), false)
  t.equal(perUser.spend('b', {}, 0), false, 'each user has a budget of their own')
  t.equal(perUser.spend('a', {}, 1), true)
  for (const [variant, limit] of [['missing', undefined], ['empty', ''], ['garbage', '5 calls']] as const) {
    const headers: Record<string, string> = {}
    rateLimiter({ limit: 5, windowSec: 60, headers: variant }, 0).spend('a', headers, 0)
    t.equal(headers['x-ratelimit-limit'], limit, `${variant}: X-RateLimit-Limit ${JSON.stringify(limit)}`)
  }
})
