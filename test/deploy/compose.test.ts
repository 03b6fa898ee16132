import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ROOT } from '../helper.js'

// The compose files stop a relay without cutting a request in flight: such a request may wait for
// Qualys up to QUALYS_DEADLINE_MS (SPEC §3 default: 25,000 ms), so the relay's grace must be above
// it and the container's stop timeout above the grace (after it, compose sends SIGKILL).
// test/e2e/compose.serial.ts runs both files for real; this holds without podman.
const DEADLINE_MS = 25_000

for (const file of ['compose.yaml', 'compose.replicas.yaml']) {
  t.test(`deploy/${file}: the stop timeout covers the grace, the grace covers the deadline`, async (t) => {
    const text = readFileSync(path.join(ROOT, 'deploy', file), 'utf8')
    const grace = [...text.matchAll(/SHUTDOWN_GRACE_MS: "(\d+)"/g)].map((m) => Number(m[1]))
    const stop = [...text.matchAll(/stop_grace_period: (\d+)s/g)].map((m) => Number(m[1]) * 1000)
    t.equal(grace.length, 1, 'SHUTDOWN_GRACE_MS set once (the relay service, or the anchor every replica uses)')
    t.equal(stop.length, 1, 'stop_grace_period set once, beside it')
    t.ok((grace[0] ?? 0) > DEADLINE_MS, `grace ${grace[0]} ms > deadline ${DEADLINE_MS} ms`)
    t.ok((stop[0] ?? 0) > (grace[0] ?? Infinity), `stop timeout ${stop[0]} ms > grace ${grace[0]} ms`)
    t.notMatch(text, /\$\{[A-Z_]+:-\}/, 'no empty default (VAR:-): podman-compose 1.0.3 passes it on literally')
  })
}

t.test('deploy/compose.replicas.yaml runs the replicas that deploy/nginx.replicas.conf names, on one Redis', async (t) => {
  const compose = readFileSync(path.join(ROOT, 'deploy/compose.replicas.yaml'), 'utf8')
  const upstream = readFileSync(path.join(ROOT, 'deploy/nginx.replicas.conf'), 'utf8')
  const named = [...upstream.matchAll(/^\s*server (relay-\d+):9090\b/gm)].map((m) => m[1])
  t.same(named, ['relay-1', 'relay-2', 'relay-3'])
  for (const name of named) t.match(compose, new RegExp(`^  ${name}: \\*relay$`, 'm'), `${name} is a service`)
  t.match(compose, /^ {4}REDIS_URL: redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/m, 'every replica on the same Redis, with its password')
  t.match(compose, /^ {2}redis:\n {4}image: \S+\n {4}command: \["redis-server", "--save", "", "--appendonly", "no", "--requirepass", "\$\{REDIS_PASSWORD:\?[^}]+\}"\]$/m, 'Redis without persistence, behind a password')
  t.match(compose, /- \.\/nginx\.replicas\.conf:\/etc\/nginx\/conf\.d\/default\.conf:ro/, 'nginx runs the shipped upstream')
})

// Behind an egress proxy (docs/deploy.md): the relay's environment passes the standard variables
// and Node's extra CA file through from the operator's, as bare keys (set only when set there).
for (const file of ['compose.yaml', 'compose.replicas.yaml']) {
  t.test(`deploy/${file}: the egress proxy variables and NODE_EXTRA_CA_CERTS reach the relay`, async (t) => {
    const text = readFileSync(path.join(ROOT, 'deploy', file), 'utf8')
    const env = /^( +)environment:\n((?:\1 {2}.*\n)+)/m.exec(text)?.[2] ?? ''
    for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'NODE_EXTRA_CA_CERTS']) {
      t.match(env, new RegExp(`^ +${name}:$`, 'm'), `${name}: passed through`)
    }
    t.match(text, /# volumes: \["\.\/certs\/corporate-ca\.pem:\/etc\/relay\/ca\.pem:ro"\]/, 'the CA file\'s volume, ready to uncomment')
  })
}
