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
