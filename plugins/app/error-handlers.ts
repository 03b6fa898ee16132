import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { envelope, frameworkError, RelayError, invalidPayload } from '../../lib/errors.js'
import { scrub } from '../../lib/secrets.js'
import { observablesDetail } from '../../lib/validation-message.js'

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const

// SPEC §1 and §6 in one place: relay errors (and an invalid body) in the envelope with HTTP 200;
// framework problems with their status in the framework shape; a bug as a 500 that carries no
// internals (its cause logged, scrubbed of the request's secrets); 404 and 405 told apart.
export default fp(async function errorHandlers (fastify: FastifyInstance) {
  fastify.setErrorHandler((err: FastifyError | RelayError, request, reply) => {
    if (err instanceof RelayError) return reply.code(200).send(envelope({}, [err]))
    if ('validation' in err && err.validation !== undefined && err.validationContext === 'body') {
      return reply.code(200).send(envelope({}, [invalidPayload(observablesDetail(err.validation, request.body))]))
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
}, { name: 'error-handlers' })
