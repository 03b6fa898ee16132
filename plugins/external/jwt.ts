import { randomBytes } from 'node:crypto'
import jwt from '@fastify/jwt'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

// @fastify/jwt (fast-jwt) decodes every token and verifies HS256 ones with SECRET_KEY. Without
// SECRET_KEY, HS256 tokens are refused before verification; the random secret only satisfies
// the plugin and is never used to accept a token.
export default fp(async function jwtPlugin (fastify: FastifyInstance) {
  await fastify.register(jwt, {
    secret: fastify.config.SECRET_KEY ?? randomBytes(32).toString('hex'),
    decode: { complete: true },
    verify: { algorithms: ['HS256'] }
  })
}, { name: 'jwt', dependencies: ['env'] })
