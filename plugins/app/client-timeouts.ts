import { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

// Slow and idle clients are cut (SPEC §7 hardening): without bounds a single client can hold
// sockets, one header line or one body byte at a time, until the process runs out of file
// descriptors. Node's own timers do it (measured on Node 20, test/reliability/slow-clients):
// - headersTimeout: the headers, from the first byte, and the wait for a first request;
// - requestTimeout: the whole request, body included (a request whose body has arrived is never
//   cut by it, however long it waits on Qualys);
// - keepAliveTimeout: idle between keep-alive requests.
// Node answers the first two with a 408 (app.ts clientErrorHandler: the framework shape). One
// case Node leaves open: a request answered before its body arrived (e.g. refused authentication)
// whose client keeps trickling; its connection is closed once REQUEST_TIMEOUT_MS has passed.
export default fp(async function clientTimeouts (fastify: FastifyInstance) {
  const { HEADERS_TIMEOUT_MS: headers, REQUEST_TIMEOUT_MS: whole, IDLE_TIMEOUT_MS: idle } = fastify.config
  if (headers > whole) throw new Error('env/HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS')
  const server = fastify.server
  server.headersTimeout = headers
  server.requestTimeout = whole
  server.keepAliveTimeout = idle

  fastify.addHook('onResponse', async (request) => {
    const raw = request.raw
    const socket = raw.socket
    // Real connections only (fastify.inject has no socket to close).
    if (raw.complete || !(socket instanceof Socket)) return
    const timer = setTimeout(() => { if (!raw.complete) socket.destroy() }, whole)
    timer.unref()
    const clear = () => clearTimeout(timer)
    raw.once('end', clear)
    socket.once('close', clear)
  })
}, { name: 'client-timeouts', dependencies: ['env'] })
