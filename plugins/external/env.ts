import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Errors } from '@sinclair/typebox/errors'
import { ConfigSchema, type Config } from '../../schemas/config.js'
import type { AppOptions } from '../../app.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

// An environment string as its schema's type: whole numbers and true/false only (1.5 stays a
// string, so an integer setting refuses it rather than truncating it).
function typed (type: unknown, raw: string): unknown {
  if (type === 'integer' && /^[+-]?\d+$/.test(raw.trim())) return Number(raw)
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true'
  return raw
}

// Validated configuration: a bad value stops start-up with the variable's name in the message.
// Checked with TypeBox's own error iterator (the schema is TypeBox already): env-schema's Ajv
// instance cost ~110 ms of every start-up, TypeBox's whole Value module ~30 ms more than this.
export function readConfig (env: Record<string, string | undefined>): Config {
  const properties = ConfigSchema.properties as Record<string, { type?: unknown, default?: unknown }>
  const config = Object.fromEntries(Object.entries(properties).flatMap(([key, schema]) =>
    env[key] !== undefined
      ? [[key, typed(schema.type, env[key] as string)]]
      : schema.default !== undefined ? [[key, schema.default]] : []))
  const error = Errors(ConfigSchema, config).First()
  if (error !== undefined) {
    const name = error.path.split('/')[1] ?? ''
    // Never the value itself: SECRET_KEY or a REDIS_URL with a password may be the one that is wrong.
    throw new Error(`env/${name} ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`)
  }
  return config as Config
}

export default fp(async function envPlugin (fastify: FastifyInstance, opts: AppOptions) {
  fastify.decorate('config', readConfig(opts.env ?? process.env))
  fastify.log.level = fastify.config.LOG_LEVEL
}, { name: 'env' })
