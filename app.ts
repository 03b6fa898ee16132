import type { Socket } from 'node:net'
import path from 'node:path'
import AutoLoad from '@fastify/autoload'
import type { Server } from 'node:http'
import { LogController, type FastifyHttpOptions, type FastifyInstance } from 'fastify'
import { frameworkError } from './lib/errors.js'
import { schemaCompilers, type SchemaCompilers } from './lib/schema-compilers.js'

export interface AppOptions {
  // Environment to read the configuration from (tests pass their own); process.env otherwise.
  env?: Record<string, string | undefined>
  // This server's schema compilers (serverOptions()): warmed up once the server listens.
  compilers?: SchemaCompilers
}

// Errors Node's HTTP server answers before Fastify sees a request (headers over 16 KB, a client
// too slow to send its request): still the framework error shape, never a bare status line.
const CLIENT_ERRORS: Record<string, number> = { HPE_HEADER_OVERFLOW: 431, ERR_HTTP_REQUEST_TIMEOUT: 408 }
function clientErrorHandler (err: Error & { code?: string }, socket: Socket) {
  const error = frameworkError(CLIENT_ERRORS[err.code ?? ''] ?? 400)
  const body = JSON.stringify(error)
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage
  if (socket.writable && answering?.headersSent !== true) {
    socket.end(`HTTP/1.1 ${error.code} ${error.message}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  } else socket.destroy()
}

// Server options shared by server.ts, the demo, the bench and the tests.
export const options: FastifyHttpOptions<Server> = {
  clientErrorHandler,
  // Node checks the header and request timeouts on this interval (default 30 s: cuts came late).
  http: { connectionsCheckingInterval: 1000 },
  ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
  routerOptions: { ignoreTrailingSlash: true },
  logController: new LogController({ disableRequestLogging: true }),
  return503OnClosing: true
}

// Where `npm run build` writes every route's compiled schemas: beside the compiled app.
const COMPILED_SCHEMAS = path.join(import.meta.dirname, 'compiled-schemas')

// `options` with a server's own schema compilers (lib/schema-compilers.ts): the build's code,
// else compiled on first use. One per server: nothing is shared between apps in a process.
export function serverOptions (compiled = COMPILED_SCHEMAS): { options: FastifyHttpOptions<Server>, compilers: SchemaCompilers } {
  const compilers = schemaCompilers(compiled)
  const { buildValidator, buildSerializer } = compilers
  return { options: { ...options, schemaController: { compilersFactory: { buildValidator, buildSerializer } } }, compilers }
}

// Logger settings shared by server.ts, the demo and the tests: no header is logged at all (the
// request line is our own), and these paths are redacted wherever an object carries them.
export const loggerRedaction = {
  paths: ['req.headers.authorization', 'headers.authorization', '*.pass', '*.password', '*.token', '*.SECRET_KEY'],
  censor: '[redacted]'
}

export default async function app (fastify: FastifyInstance, opts: AppOptions) {
  const dir = import.meta.dirname

  await fastify.register(AutoLoad, { dir: path.join(dir, 'plugins/external'), options: opts })
  // One plugin per file or folder (its index); the folders' own subfolders are modules, not plugins.
  await fastify.register(AutoLoad, { dir: path.join(dir, 'plugins/app'), options: opts, maxDepth: 1 })

  fastify.register(AutoLoad, {
    dir: path.join(dir, 'routes'),
    autoHooks: true,
    cascadeHooks: true,
    options: opts
  })

  // Schemas the build did not compile: on first use, or in the background once the server listens.
  // A compiled relay without the build's schemas still answers, but says so.
  const { compilers } = opts
  if (compilers !== undefined) {
    fastify.addHook('onListen', async () => { setImmediate(compilers.warmUp) })
    if (!compilers.built && import.meta.filename.endsWith('.js')) {
      fastify.log.warn({ expected: COMPILED_SCHEMAS }, 'no compiled schemas beside the relay (npm run build writes them): every schema compiles at run time')
    }
  }

  // Graceful shutdown: connections that carried in-flight requests are closed after their answer,
  // so close() need not wait for clients' keep-alive to time out.
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })

  // One line per request, with timing; no headers, so no token reaches the log.
  fastify.addHook('onResponse', async (request, reply) => {
    request.log.info({
      method: request.method,
      url: request.url.split('?')[0],
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime)
    }, 'request')
  })
}
