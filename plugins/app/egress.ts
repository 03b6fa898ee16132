import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Dispatcher } from 'undici'
import { createDispatcher, readEgress, type Egress } from '../../lib/egress.js'

declare module 'fastify' {
  interface FastifyInstance {
    egress: Egress & { dispatcher: Dispatcher }
  }
}

// The relay's one way out, owned and closed here: Qualys calls and logins (the qualys plugin) and
// the JWKS fetches (auth) go through this dispatcher, direct or through the egress proxy that
// HTTPS_PROXY / HTTP_PROXY name (lib/egress.ts). Certificates are always checked: trust a
// TLS-inspecting proxy's CA with NODE_EXTRA_CA_CERTS; switching the checks off refuses to start.
export default fp(async function egressPlugin (fastify: FastifyInstance) {
  const c = fastify.config
  if (c.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    throw new Error('env/NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate checks off, which the relay never runs with: trust your proxy\'s CA with NODE_EXTRA_CA_CERTS instead')
  }
  const egress = readEgress(c)
  const dispatcher = createDispatcher(egress, { connectTimeoutMs: c.QUALYS_CONNECT_TIMEOUT_MS, connections: 32, keepAliveTimeoutMs: 30_000 })
  if (egress.https !== undefined || egress.http !== undefined) fastify.log.info({ egress: egress.describe() }, 'outbound requests go through the egress proxy')
  fastify.decorate('egress', { ...egress, dispatcher })
  fastify.addHook('onClose', () => dispatcher.close())
}, { name: 'egress', dependencies: ['env'] })
