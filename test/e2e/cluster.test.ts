import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { bearer, build, ctimErrors, DEMO, EVE, hsToken, normaliseIds, registerSecret, ROOT, SECRET_KEY, spawnNode, startSimulator, withSimulator } from '../helper.js'
import { freePort } from '../../scripts/free-port.js'
import { PROGRAMS, withPrograms } from '../system.js'
import { startRedis } from '../redis.js'
import { contend } from '../../scripts/contention.js'
import { editSite, nginxSite } from '../nginx.js'
import { fetchedTwice } from '../helpers/calls.js'
import { LISTS, O } from '../helpers/examples.js'

// Three relay processes (the built relay, `node dist/server.js`) sharing one real redis-server
// and one simulator (50 ms latency), behind real nginx using deploy/nginx.replicas.conf as
// shipped: one Qualys budget per credential across the replicas (SPEC §10), held with the CPU
// busy beside them (one busy process per core), run after run.

const ZED = { user: 'zed', pass: 'zed-password-456' }
const ACCOUNTS = { [DEMO.user]: DEMO.pass, [EVE.user]: EVE.pass, [ZED.user]: ZED.pass }
const LEASE_MS = 3000 // renewed every 600 ms (a fifth): a dead replica's lock frees 2.4–3 s after its death
const CONCURRENCY = 2
const RUNS = 10

// Each of LISTS is asked 3 times per credential, all at once.
// Asked while Redis is killed or paused: new lists, so they reach Qualys.
const LATER = [[O.domain, O.md5], [O.file_name], [O.ip, O.mutex], [O.sha256, O.ipv6]]

interface Replica { url: string, metrics: string, kill: () => void, output: () => string }

async function replica (t: any, env: Record<string, string>): Promise<Replica> {
  const [port, metricsPort] = [await freePort(), await freePort()]
  const relay = spawnNode(t, ['dist/server.js'], { NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(metricsPort), ...env })
  return { url: `http://127.0.0.1:${port}`, metrics: `http://127.0.0.1:${metricsPort}/metrics`, kill: () => relay.child.kill('SIGKILL'), output: relay.output }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// Until `check` holds (or fails after ~20 s with `what`).
async function until (what: string, check: () => Promise<boolean> | boolean) {
  for (let i = 0; !(await Promise.resolve().then(check).catch(() => false)); i++) {
    if (i > 400) throw new Error(`never: ${what}`)
    await sleep(50)
  }
}
const redisLines = async (r: Replica) => (await (await request(r.metrics)).body.text()).split('\n').filter((l) => l.startsWith('relay_redis'))
const redisUp = async (r: Replica) => (await redisLines(r)).includes('relay_redis_up 1')

withPrograms(t, [PROGRAMS.redis, PROGRAMS.nginx, PROGRAMS.openssl], 'three replicas share one Qualys budget through Redis, under load', async (t, paths) => {
  // The build (compile-schemas runs the relay's modules) is not under test here: no coverage from it.
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' } })
  for (const secret of [EVE.pass, ZED.pass]) registerSecret(secret)
  const redis = await startRedis(t, paths['redis-server'] as string)
  const sim = await withSimulator(t, { accounts: ACCOUNTS, latencyMs: 50 })
  // Production settings but for the lease (shorter, so the dead-replica case takes seconds): in
  // particular REDIS_TIMEOUT_MS is the default, so a loaded machine must not read as Redis down.
  const env = {
    SECRET_KEY,
    API_URL: sim.url,
    REDIS_URL: redis.url,
    REDIS_LEASE_MS: String(LEASE_MS),
    QUALYS_CONCURRENCY: String(CONCURRENCY),
    QUALYS_DEADLINE_MS: '15000',
    TRUST_PROXY: 'true'
  }
  const replicas = await Promise.all([0, 1, 2].map(() => replica(t, env)))
  const tokens = new Set<string>() // every Qualys token the simulator saw, across its resets
  const keepTokens = () => { for (const c of sim.calls) if (c.token !== undefined) tokens.add(c.token) }
  await until('every replica connected to Redis', async () => (await Promise.all(replicas.map(redisUp))).every(Boolean))

  // nginx in front, with the shipped upstream block for three replicas.
  const nginx = nginxSite(t, paths as { nginx: string, openssl: string })
  const [httpsPort, httpPort] = [await freePort(), await freePort()]
  const site = readFileSync(path.join(ROOT, 'deploy/nginx.replicas.conf'), 'utf8')
  nginx.start(editSite(t, site, 'deploy/nginx.replicas.conf', [
    ...replicas.map((r, i): [RegExp, string] => [new RegExp(`server relay-${i + 1}:9090`, 'g'), `server ${new URL(r.url).host}`]),
    [/listen 443 ssl;/g, `listen 127.0.0.1:${httpsPort} ssl;`],
    [/listen 80;/g, `listen 127.0.0.1:${httpPort};`],
    [/ssl_certificate\s+\S+;/g, `ssl_certificate ${nginx.cert};`],
    [/ssl_certificate_key\s+\S+;/g, `ssl_certificate_key ${nginx.key};`]
  ]))
  const dispatcher = new Agent({ connect: { ca: readFileSync(nginx.cert) }, connections: 64 })
  t.teardown(() => dispatcher.close())
  const proxy = `https://localhost:${httpsPort}`
  await until('nginx listening', async () => (await request(`${proxy}/version`, { method: 'POST', dispatcher })).statusCode === 200)

  const observe = async (base: string, who: { user: string, pass: string }, list: unknown[]) => {
    const res = await request(`${base}/observe/observables`, {
      method: 'POST',
      dispatcher: base === proxy ? dispatcher : undefined,
      headers: { ...bearer(hsToken(who)), 'content-type': 'application/json' },
      body: JSON.stringify(list)
    })
    return { status: res.statusCode, body: await res.body.json() as any }
  }

  // What one replica on its own answers (its own simulator, no Redis): the reference.
  const refSim = await startSimulator({ accounts: ACCOUNTS })
  t.teardown(() => refSim.close())
  const { app: single } = await build(t, { API_URL: refSim.url })
  const expected = async (who: { user: string, pass: string }, list: unknown[]) =>
    normaliseIds((await single.inject({ method: 'POST', url: '/observe/observables', headers: bearer(hsToken(who)), payload: list })).json()).body
  type Answer = { who: typeof DEMO, list: unknown[], res: { status: number, body: any } }
  const wrongAnswers = async (answers: Answer[]) => {
    const wrong = []
    for (const a of answers) {
      const invalid = ctimErrors(a.res.body.data) // the built relays' answers are valid CTIM too
      if (invalid.length > 0) wrong.push(`${a.who.user} ${JSON.stringify(a.list)}: invalid CTIM ${invalid.slice(0, 3).join('; ')}`)
      if (a.res.status !== 200 || a.res.body.errors !== undefined) wrong.push(`${a.who.user} ${JSON.stringify(a.list)}: ${a.res.status} ${JSON.stringify(a.res.body.errors)}`)
      else if (JSON.stringify(normaliseIds(a.res.body).body) !== JSON.stringify(await expected(a.who, a.list))) wrong.push(`${a.who.user} ${JSON.stringify(a.list)}: differs`)
    }
    return wrong
  }
  const same = async (t: any, label: string, answers: Answer[]) =>
    t.same(await wrongAnswers(answers), [], `${label}: ${answers.length} answers, all 200 and identical to one replica's`)
  const all = (lists: unknown[][], tag: string) => lists.map((list) => [...list, { type: 'domain', value: `${tag}.example` }])

  // One busy process per core beside the replicas, Redis, nginx and the simulator, for the rest.
  const busy = contend()
  t.teardown(busy.stop)

  await t.test(`${RUNS} runs in a row under CPU contention, 30 requests each through nginx, 2 credentials: the cap, one fetch per query and one login per credential hold in every run`, async (t: any) => {
    const problems: string[] = []
    const logins: Record<string, number> = {}
    const maxInFlight: number[] = []
    let calls = 0
    for (let run = 0; run < RUNS; run++) {
      sim.reset()
      // A list never asked before in each run (its own marker observable): every query reaches Qualys.
      const load = all(LISTS, `run-${run}`).flatMap((list) => [DEMO, EVE].flatMap((who) => [1, 2, 3].map(() => ({ who, list }))))
      const answers = await Promise.all(load.map(async ({ who, list }) => ({ who, list, res: await observe(proxy, who, list) })))
      for (const w of await wrongAnswers(answers)) problems.push(`run ${run}: ${w}`)
      for (const who of [DEMO, EVE]) {
        const mine = sim.byUser[who.user]
        logins[who.user] = (logins[who.user] ?? 0) + (mine?.logins ?? 0)
        if ((mine?.maxInFlight ?? 0) > CONCURRENCY) problems.push(`run ${run}: ${who.user} had ${mine?.maxInFlight} calls in flight`)
        maxInFlight.push(mine?.maxInFlight ?? 0)
      }
      for (const twice of fetchedTwice(sim)) problems.push(`run ${run}: ${twice}`)
      calls += sim.counters.events
      keepTokens()
    }
    t.same(problems, [], `${RUNS} runs, ${calls} Qualys calls: every answer right, ≤ ${CONCURRENCY} in flight per credential (at most ${Math.max(...maxInFlight)}), each (credential, query) fetched once`)
    t.same(logins, { demo: 1, eve: 1 }, 'one login per credential in all the runs')
    const lines = (await Promise.all(replicas.map(redisLines))).flat()
    t.same(lines.filter((l) => l.startsWith('relay_redis_fallbacks_total')), [], 'Redis up under load: no fallback, no lease lost (relay_redis_fallbacks_total absent)')
    t.same(lines.filter((l) => l.startsWith('relay_redis_up')), ['relay_redis_up 1', 'relay_redis_up 1', 'relay_redis_up 1'], 'and every replica says Redis is up')
    const served = replicas.map((r) => (r.output().match(/"url":"\/observe\/observables"/g) ?? []).length)
    t.ok(served.every((n) => n > 0), `nginx spread the requests over the three replicas (${served.join(', ')})`)
  })

  // Redis gone (killed) or silent (SIGSTOP) during the load: the replicas go on, on their own state.
  for (const outage of ['killed', 'paused'] as const) {
    await t.test(`redis-server ${outage} during the load: no request fails, answers stay right; back: sharing resumes`, async (t: any) => {
      const load = all(LATER, outage).flatMap((list) => [DEMO, EVE].flatMap((who) => [1, 2, 3].map(() => ({ who, list }))))
      const pending = load.map(async ({ who, list }, i) => {
        await sleep(i * 5)
        return { who, list, res: await observe(proxy, who, list) }
      })
      await sleep(40)
      if (outage === 'killed') redis.kill()
      else redis.pause()
      await same(t, 'during the outage', await Promise.all(pending))
      if (outage === 'paused') {
        await until('every replica says Redis is down', async () => (await Promise.all(replicas.map(redisUp))).every((up) => !up))
        redis.resume()
      } else await redis.start()
      const back = Date.now()
      await until('every replica reconnected', async () => (await Promise.all(replicas.map(redisUp))).every(Boolean))
      t.ok(Date.now() - back < 5000, `every replica shares again ${Date.now() - back} ms after Redis came back`)
      keepTokens()
      sim.reset()
      const list = [O.md5, O.mutex, O.ipv6, { type: 'domain', value: `after-${outage}.example` }] // never asked before
      const one = await observe((replicas[0] as Replica).url, DEMO, list)
      const calls = sim.counters.events
      t.ok(calls > 0, 'the first replica asked Qualys')
      await same(t, 'after', [
        { who: DEMO, list, res: one },
        { who: DEMO, list, res: await observe((replicas[1] as Replica).url, DEMO, list) },
        { who: DEMO, list, res: await observe((replicas[2] as Replica).url, DEMO, list) }
      ])
      const lines = (await Promise.all(replicas.map(redisLines))).map((l) => l.join(' ')).join(' | ')
      t.equal(sim.counters.events, calls, `the other two found its answer in Redis: no Qualys call (${lines})`)
      t.equal(sim.counters.logins, 0, 'and no login')
    })
  }

  await t.test('a replica SIGKILLed holding both slots, a lookup lock and the login lock: the others wait out its lease, then go on', async (t: any) => {
    keepTokens()
    sim.reset()
    const [a, b, c] = replicas as [Replica, Replica, Replica]
    const hung = [{ type: 'domain', value: 'hang-one.example' }, { type: 'domain', value: 'hang-two.example' }]
    sim.rule = (call) => call.filter?.includes('hang-') === true ? { hang: true } : undefined
    sim.inject({ hang: true }, 1, 'auth') // the next login: zed's, on replica c
    const held = [observe(c.url, DEMO, [hung[0]]), observe(c.url, DEMO, [hung[1]]), observe(c.url, ZED, [O.md5])]
    for (const p of held) p.catch(() => {}) // c dies: these never answer
    await until('c holds both of demo\'s slots and zed\'s login', () =>
      sim.byUser.demo?.inFlight === CONCURRENCY && sim.calls.some((call) => call.path === 'auth' && call.user === 'zed'))
    sim.rule = undefined
    c.kill()
    const killedAt = sim.clock()
    const answers = await Promise.all([
      { who: DEMO, list: [hung[0]], base: a.url }, // c's lookup lock and both slots
      { who: DEMO, list: [O.ip, O.file_name], base: b.url }, // both slots
      { who: ZED, list: [O.md5], base: b.url } // c's login lock
    ].map(async ({ who, list, base }) => ({ who, list, res: await observe(base, who, list) })))
    await same(t, 'on the live replicas', answers)
    const after = (user: string, path?: string) => sim.calls.filter((call) => call.at >= killedAt && call.user === user && (path === undefined ? call.path !== 'auth' : call.path === path))
    const firstDemo = Math.min(...after('demo').map((call) => call.at)) - killedAt
    const zedLogin = Math.min(...after('zed', 'auth').map((call) => call.at)) - killedAt
    // c renewed its leases at most a fifth of a lease before it died: nothing is free before
    // 4/5 of a lease (1.6 s), less a margin for a lagging replica; an upper bound for a loaded machine.
    const [low, high] = [LEASE_MS / 2, LEASE_MS + 8000]
    t.ok(firstDemo >= low && firstDemo <= high, `demo's first call after c died waited for c's slots and lookup lock: ${firstDemo} ms (lease ${LEASE_MS} ms; within ${low}–${high})`)
    t.ok(zedLogin >= low && zedLogin <= high, `zed's login waited for c's login lock: ${zedLogin} ms (within ${low}–${high})`)
    t.equal(sim.byUser.zed?.logins, 2, 'zed: the login c never finished, then one new login on b')
    t.ok((sim.byUser.demo?.maxInFlight ?? 0) <= CONCURRENCY, `never more than ${CONCURRENCY} of demo's calls in flight (${sim.byUser.demo?.maxInFlight})`)
  })

  // Nothing secret in any replica's log.
  keepTokens()
  const logs = replicas.map((r) => r.output()).join('\n')
  for (const secret of [DEMO.pass, EVE.pass, ZED.pass, SECRET_KEY, ...tokens]) t.notOk(logs.includes(secret), `no ${secret.slice(0, 6)}… in the logs`)
})
