import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { ROOT, spawnTs } from '../helper.js'
import { PROGRAMS, withPrograms } from '../system.js'

const run = promisify(execFile)

withPrograms(t, [PROGRAMS.httpie], 'npm run demo: simulator + relay, the printed httpie examples work, Ctrl-C stops both', async (t) => {
  const demo = spawnTs(t, 'scripts/demo.ts', { PORT: '0', DEMO_QUALYS_PORT: '0', LOG_LEVEL: 'warn' })
  const [, url] = await demo.waitFor(/^URL=(\S+)$/m)
  const [, jwt] = await demo.waitFor(/^JWT=(\S+)$/m)
  t.match(demo.output(), /DEMO MODE/)
  t.match(demo.output(), new RegExp(`${url}/docs`))

  const env = { ...process.env, URL: url, JWT: jwt }
  const sh = async (script: string) => {
    const { stdout } = await run('bash', [`examples/${script}`], { cwd: ROOT, env })
    return JSON.parse(stdout)
  }
  const health = await sh('health.sh')
  t.match(health, { data: { status: 'ok', budget: { limit: 300, window_seconds: 3600 } } }, 'examples/health.sh: ok, and the demo subscription\'s budget')
  t.ok(health.data.budget.remaining < 300, `${health.data.budget.remaining} calls left`)

  const observed = await sh('observe.sh')
  t.notOk(observed.errors, 'no errors')
  const types = new Set(observed.data.sightings.docs.map((d: { observables: Array<{ type: string }> }) => d.observables[0]?.type))
  t.same([...types].sort(), ['domain', 'file_name', 'file_path', 'ip', 'ipv6', 'md5', 'mutex', 'sha256'], 'examples/observe.sh: hits for all eight types')
  t.ok(observed.data.indicators.count > 0 && observed.data.judgements.count > 0 && observed.data.relationships.count > 0)

  const judged = await sh('deliberate.sh')
  t.notOk(judged.errors, 'examples/deliberate.sh: no errors')
  t.ok(judged.data.verdicts.count >= 5, `examples/deliberate.sh: ${judged.data.verdicts.count} verdicts`)

  // The tile line the demo prints, run as printed; then every tile for every period: the demo's
  // events are dated within the last 29 days, so each period shows data.
  const tileLine = /^\s*(http --ignore-stdin POST "\$URL\/tiles\/tile-data" .*)$/m.exec(demo.output())?.[1]
  t.ok(tileLine, 'the demo prints an httpie line for a tile')
  const { stdout } = await run('bash', ['-c', `${tileLine} --check-status`], { cwd: ROOT, env })
  t.same(JSON.parse(stdout).data.data.map((d: { label: string }) => d.label), ['Events', 'Malicious', 'Suspicious'])
  for (const tile of ['qualys-ioc-event-summary', 'qualys-ioc-events-by-type', 'qualys-ioc-events-over-time', 'qualys-ioc-latest-malicious']) {
    for (const period of ['last_24_hours', 'last_7_days', 'last_30_days']) {
      const res = await fetch(`${url}/tiles/tile-data`, { method: 'POST', headers: { authorization: `Bearer ${jwt}` }, body: JSON.stringify({ tile_id: tile, period }) })
      const body = await res.json() as { errors?: unknown, data: { data: Array<{ value?: number }> | string[] } }
      const shown = tile === 'qualys-ioc-latest-malicious'
        ? (body.data.data as string[]).some((line) => line.startsWith('| 20'))
        : (body.data.data as Array<{ value?: number }>).some((d) => (d.value ?? 0) > 0)
      t.ok(body.errors === undefined && shown, `${tile} ${period}: data shown`)
    }
  }

  const referred = await sh('refer.sh')
  t.equal(referred.data.length, 8, 'examples/refer.sh: a link per observable')
  const link = await fetch(referred.data[0].url)
  t.equal(link.status, 200, 'demo pivot links land on the simulator’s hunting page')

  demo.child.kill('SIGINT')
  t.equal(await demo.exited, 0, 'Ctrl-C exits cleanly')
  await t.rejects(fetch(`${url}/version`, { method: 'POST' }), 'the relay is stopped')
  await t.rejects(fetch(new URL(referred.data[0].url).origin + '/ioc/'), 'the simulator is stopped')
})
