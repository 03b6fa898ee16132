import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { build, ROOT, startJwks } from '../helper.js'
import { freePort } from '../../scripts/free-port.js'
import { PROGRAMS, withPrograms } from '../system.js'
import { editSite, nginxSite } from '../nginx.js'

// Real nginx (Debian package) with a self-signed certificate, using deploy/nginx.conf as shipped,
// only its ports and certificate paths changed for the test.
withPrograms(t, [PROGRAMS.nginx, PROGRAMS.openssl], 'behind nginx: an RS256 token addressed to the public https URL is accepted', async (t, paths) => {
  const nginx = nginxSite(t, paths as { nginx: string, openssl: string })

  const jwks = await startJwks(t)
  const { app } = await build(t, { TRUST_PROXY: 'true', JWKS_HOSTS: jwks.origin })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const relayPort = (app.server.address() as AddressInfo).port
  const [httpsPort, httpPort] = [await freePort(), await freePort()]

  const site = readFileSync(path.join(ROOT, 'deploy/nginx.conf'), 'utf8')
  nginx.start(editSite(t, site, 'deploy/nginx.conf', [
    [/server 127\.0\.0\.1:9090;/g, `server 127.0.0.1:${relayPort};`],
    [/listen 443 ssl;/g, `listen 127.0.0.1:${httpsPort} ssl;`],
    [/listen 80;/g, `listen 127.0.0.1:${httpPort};`],
    [/ssl_certificate\s+\S+;/g, `ssl_certificate ${nginx.cert};`],
    [/ssl_certificate_key\s+\S+;/g, `ssl_certificate_key ${nginx.key};`]
  ]))
  const dispatcher = new Agent({ connect: { ca: readFileSync(nginx.cert) } })
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
