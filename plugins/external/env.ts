import env from '@fastify/env'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ConfigSchema, type Config } from '../../schemas/config.js'
import type { AppOptions } from '../../app.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

// Validated configuration: a bad value stops start-up with the variable's name in the message.
export default fp(async function envPlugin (fastify: FastifyInstance, opts: AppOptions) {
  await fastify.register(env, {
    confKey: 'config',
    schema: ConfigSchema,
    data: opts.env ?? process.env,
    dotenv: false
  })
  fastify.log.level = fastify.config.LOG_LEVEL
}, { name: 'env' })
