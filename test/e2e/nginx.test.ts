import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { build, ROOT, startJwks } from '../helper.js'
import { freePort } from '../../scripts/free-port.js'
import { PROGRAMS, withPrograms } from '../system.js'

// Real nginx (Debian package) with a self-signed certificate, using deploy/nginx.conf as shipped,
// only its ports and certificate paths changed for the test.
withPrograms(t, [PROGRAMS.nginx, PROGRAMS.openssl], 'behind nginx: an RS256 token addressed to the public https URL is accepted', async (t, paths) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-nginx-'))
  execFileSync(paths.openssl as string, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' })

  const jwks = await startJwks(t)
  const { app } = await build(t, { TRUST_PROXY: 'true', JWKS_HOSTS: jwks.origin })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const relayPort = (app.server.address() as AddressInfo).port
  const [httpsPort, httpPort] = [await freePort(), await freePort()]

  // Each change must apply exactly once: a shipped file that drifted fails here, not later.
  let site = readFileSync(path.join(ROOT, 'deploy/nginx.conf'), 'utf8')
  const edits: Array<[RegExp, string]> = [
    [/server 127\.0\.0\.1:9090;/g, `server 127.0.0.1:${relayPort};`],
    [/listen 443 ssl;/g, `listen 127.0.0.1:${httpsPort} ssl;`],
    [/listen 80;/g, `listen 127.0.0.1:${httpPort};`],
    [/ssl_certificate\s+\S+;/g, `ssl_certificate ${dir}/cert.pem;`],
    [/ssl_certificate_key\s+\S+;/g, `ssl_certificate_key ${dir}/key.pem;`]
  ]
  for (const [pattern, replacement] of edits) {
    t.equal(site.match(pattern)?.length ?? 0, 1, `deploy/nginx.conf has ${pattern.source} once`)
    site = site.replace(pattern, replacement)
  }
  writeFileSync(path.join(dir, 'site.conf'), site)
  writeFileSync(path.join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/site.conf;
}
`)
  const nginx = spawn(paths.nginx as string, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`], { stdio: 'ignore' })
  t.teardown(() => { nginx.kill('SIGQUIT') })
  const dispatcher = new Agent({ connect: { ca: readFileSync(path.join(dir, 'cert.pem')) } })
  t.teardown(() => dispatcher.close())

  const publicUrl = `https://localhost:${httpsPort}`
  const call = async (aud: string) => {
    for (let i = 0; ; i++) {
      try {
        const res = await request(`${publicUrl}/refer/observables`, {
          method: 'POST',
          dispatcher,
          headers: { authorization: `Bearer ${jwks.sign({ user: 'u', pass: 'p', jwks_host: jwks.host, aud })}` },
          body: '[]'
        })
        return { status: res.statusCode, body: await res.body.json() }
      } catch (err) {
        if (i > 50) throw err
        await new Promise((resolve) => setTimeout(resolve, 100)) // nginx still starting
      }
    }
  }
  t.same(await call(publicUrl), { status: 200, body: { data: [] } }, 'aud = the public https URL')
  t.same(await call(`http://127.0.0.1:${relayPort}`), {
    status: 200,
    body: { errors: [{ type: 'fatal', code: 'authorization error', message: 'Authorization failed: Wrong configuration-token-audience' }] }
  }, 'aud = the relay’s internal address is refused')
  t.same(((await call('https://relay.example.com')).body as { errors: Array<{ message: string }> }).errors[0]?.message, 'Authorization failed: Wrong configuration-token-audience')

  const redirect = await request(`http://127.0.0.1:${httpPort}/health`, { method: 'POST', headers: { host: 'relay.example.com' } })
  await redirect.body.dump()
  t.equal(redirect.statusCode, 301, 'plain http is redirected to https')
})
