import { errorCodes, type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { invalidPayload } from '../../lib/errors.js'

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
      // A client that went away mid-body (its socket cut, e.g. by REQUEST_TIMEOUT_MS) is a client
      // problem, answered (if anyone still listens) and logged as one, never as a bug.
      if (err !== undefined) reject(Object.assign(new Error('The request body was cut short.'), { statusCode: 400, code: 'RELAY_BODY_ABORTED' }))
      else if (size > limit) reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
      else resolve(Buffer.concat(chunks).toString('utf8'))
    }
    payload.on('data', onData)
    payload.on('end', finish)
    payload.on('error', finish)
  })
}

// Every request body is JSON, read by the relay itself (bounded by BODY_LIMIT, drained up to
// DRAIN_LIMIT so the client receives its 413).
export default fp(async function jsonBodies (fastify: FastifyInstance) {
  const limit = fastify.config.BODY_LIMIT
  // XDR does not always send a Content-Type, nor a valid one: every body is JSON. Routes without
  // a body schema ignore theirs; an empty body is left undefined for the schema to judge.
  fastify.addHook('onRequest', async (request) => {
    if (request.headers['content-type'] !== undefined) request.headers['content-type'] = 'application/json'
  })
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', (request, payload, done) => {
    readBody(payload, Number(request.headers['content-length']), limit).then((text) => {
      if (request.routeOptions.schema?.body === undefined || text.trim() === '') return done(null, undefined)
      try {
        done(null, JSON.parse(text))
      } catch {
        done(invalidPayload('{"_schema": ["The body is not valid JSON."]}'))
      }
    }, (err: Error) => done(err))
  })
}, { name: 'json-bodies', dependencies: ['env'] })
