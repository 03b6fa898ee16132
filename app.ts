import type { Socket } from 'node:net'
import path from 'node:path'
import AutoLoad from '@fastify/autoload'
import type { Server } from 'node:http'
import { errorCodes, LogController, type FastifyError, type FastifyHttpOptions, type FastifyInstance } from 'fastify'
import { RelayError, invalidArgument } from './lib/errors.js'
import { observablesMessage } from './lib/validation-message.js'
import { scrub } from './lib/secrets.js'
import { lazyCompilers, warmUp } from './lib/lazy-compilers.js'

export interface AppOptions {
  // Environment to read the configuration from (tests pass their own); process.env otherwise.
  env?: Record<string, string | undefined>
}

// Errors Node's HTTP server answers before Fastify sees a request (headers over 16 KB, a client
// too slow to send its request): still the framework error shape, never a bare status line.
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request headers are larger than the relay accepts.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request did not arrive in time.']
}
function clientErrorHandler (err: Error & { code?: string }, socket: Socket) {
  const [status, message, reason] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'The request could not be parsed.']
  const body = JSON.stringify({ code: status, message, reason })
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage
  if (socket.writable && answering?.headersSent !== true) {
    socket.end(`HTTP/1.1 ${status} ${message}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  } else socket.destroy()
}

// Server options shared by server.ts and test/helper.ts.
export const options: FastifyHttpOptions<Server> = {
  clientErrorHandler,
  // Node checks the header and request timeouts on this interval (default 30 s: cuts came late).
  http: { connectionsCheckingInterval: 1000 },
  ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
  // Fastify's own compilers, each schema compiled on first use or in the background (lib/lazy-compilers.ts).
  schemaController: { compilersFactory: lazyCompilers as never },
  routerOptions: { ignoreTrailingSlash: true },
  logController: new LogController({ disableRequestLogging: true }),
  return503OnClosing: true
}

// Logger settings shared by server.ts, the demo and the tests: no header is logged at all (the
// request line is our own), and these paths are redacted wherever an object carries them.
export const loggerRedaction = {
  paths: ['req.headers.authorization', 'headers.authorization', '*.pass', '*.password', '*.token', '*.SECRET_KEY'],
  censor: '[redacted]'
}

const STATUS_TEXT: Record<number, [string, string]> = {
  400: ['Bad Request', 'The request could not be parsed.'],
  404: ['Not Found', 'The requested URL was not found on the server.'],
  405: ['Method Not Allowed', 'The method is not allowed for the requested URL.'],
  413: ['Payload Too Large', 'The request body is larger than the relay accepts.'],
  500: ['Internal Server Error', 'The server encountered an internal error and was unable to complete your request.']
}

function frameworkError (status: number) {
  const [message, reason] = STATUS_TEXT[status] ?? [`HTTP ${status}`, 'The request could not be handled.']
  return { code: status, message, reason }
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const

// An oversized body is still read to its end (and thrown away) up to this many bytes, so the
// client, which is still sending, receives the 413 instead of a reset; beyond it the relay
// answers at once and closes the connection.
export const DRAIN_LIMIT = 16 * 1024 * 1024

// The body as text, at most `limit` bytes; over it, a 413 once the rest is drained (bounded).
function readBody (payload: NodeJS.ReadableStream, declared: number, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (declared > DRAIN_LIMIT) return reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
      else if (size > DRAIN_LIMIT) finish()
    }
    const finish = (err?: Error) => {
      payload.removeListener('data', onData)
      payload.removeListener('end', finish)
      payload.removeListener('error', finish)
      if (err !== undefined) reject(err)
      else if (size > limit) reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
      else resolve(Buffer.concat(chunks).toString('utf8'))
    }
    payload.on('data', onData)
    payload.on('end', finish)
    payload.on('error', finish)
  })
}

export default async function app (fastify: FastifyInstance, opts: AppOptions) {
  const dir = import.meta.dirname

  await fastify.register(AutoLoad, { dir: path.join(dir, 'plugins/external'), options: opts })
  await fastify.register(AutoLoad, { dir: path.join(dir, 'plugins/app'), options: opts })

  // XDR does not always send a Content-Type, nor a valid one: every body is JSON. Routes without
  // a body schema ignore theirs; an empty body is left undefined for the schema to judge.
  fastify.addHook('onRequest', async (request) => {
    if (request.headers['content-type'] !== undefined) request.headers['content-type'] = 'application/json'
  })
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', (request, payload, done) => {
    readBody(payload, Number(request.headers['content-length']), fastify.config.BODY_LIMIT).then((text) => {
      if (request.routeOptions.schema?.body === undefined || text.trim() === '') return done(null, undefined)
      try {
        done(null, JSON.parse(text))
      } catch {
        done(invalidArgument('Invalid JSON payload received. {"_schema": ["The body is not valid JSON."]}'))
      }
    }, (err: Error) => done(err))
  })

  fastify.register(AutoLoad, {
    dir: path.join(dir, 'routes'),
    autoHooks: true,
    cascadeHooks: true,
    options: opts
  })

  fastify.setErrorHandler((err: FastifyError | RelayError, request, reply) => {
    if (err instanceof RelayError) return reply.code(200).send({ errors: [err.toJSON()] })
    if ('validation' in err && err.validation !== undefined && err.validationContext === 'body') {
      return reply.code(200).send({
        errors: [invalidArgument(observablesMessage(err.validation, request.body)).toJSON()]
      })
    }
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500
      ? err.statusCode
      : 500
    if (status === 500) {
      // A bug's message may carry what the request held: never its password or token.
      const secrets = [request.credentials?.pass, request.headers.authorization?.split(' ')[1]]
      request.log.error({ err: { type: err.name, message: scrub(err.message, secrets), stack: scrub(err.stack ?? '', secrets) } }, 'unhandled error')
    } else request.log.info({ code: err.code, status }, 'client error')
    return reply.code(status).send(frameworkError(status))
  })

  fastify.setNotFoundHandler((request, reply) => {
    const url = (request.url.split('?')[0] ?? '/').replace(/(.)\/+$/, '$1')
    const allowed = METHODS.filter((method) => fastify.hasRoute({ url, method }))
    if (allowed.length > 0) {
      return reply.code(405).header('allow', allowed.join(', ')).send(frameworkError(405))
    }
    return reply.code(404).send(frameworkError(404))
  })

  // Schemas compile on first use; once the server listens, the rest compile in the background.
  fastify.addHook('onListen', async () => { setImmediate(warmUp) })

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
