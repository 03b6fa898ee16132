// Build step (`npm run build`): every route's validators and serializers, compiled ahead with
// Fastify's own standalone compilers (ajv's standalone code, fast-json-stringify's standalone mode
// with its validators inlined) into dist/compiled-schemas/, which lib/schema-compilers.ts reads.
// The relay then starts without loading or running either compiler.
//   node dist/scripts/compile-schemas.js [out-dir]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import app, { options } from '../app.js'
import { contextKey, schemaKey, type Kind, type RouteSchema } from '../lib/schema-compilers.js'

const require = createRequire(import.meta.url)

type Store = (route: RouteSchema, source: string) => void
const { StandaloneValidator } = require('@fastify/ajv-compiler') as typeof import('@fastify/ajv-compiler')
const { StandaloneSerializer } = require('@fastify/fast-json-stringify-compiler') as typeof import('@fastify/fast-json-stringify-compiler')

export async function compileSchemas (outDir: string): Promise<{ schemas: number, modules: number }> {
  const keys: Record<string, number> = {}
  const code: string[] = []
  const indexOf = new Map<string, number>()
  // The key is made of what Fastify passes, as the relay will see it at run time.
  const storing = (kind: Kind, externalSchemas: unknown, opts: unknown): Store => {
    const context = contextKey(kind, externalSchemas, opts)
    return (route, source) => {
      let index = indexOf.get(source)
      if (index === undefined) indexOf.set(source, (index = code.push(source) - 1))
      keys[schemaKey(context, route)] = index
    }
  }
  const fastify = Fastify({
    ...options,
    logger: false,
    schemaController: {
      compilersFactory: {
        // Each gets a copy of the options: the standalone compilers write into the object they are
        // given, and the run-time key must be made of what Fastify passes, untouched.
        buildValidator: (externalSchemas, opts) =>
          StandaloneValidator({ readMode: false, storeFunction: storing('validator', externalSchemas, opts) })(externalSchemas, { ...opts }),
        buildSerializer: (externalSchemas, opts) =>
          StandaloneSerializer({ readMode: false, storeFunction: storing('serializer', externalSchemas, opts) })(externalSchemas, { ...opts, inlineValidators: true })
      }
    }
  })
  // Routes and schemas do not depend on the configuration: any valid one will do.
  await fastify.register(fp(app), { env: { SECRET_KEY: 'schema-compilation-only', LOG_LEVEL: 'silent' } })
  await fastify.ready()
  await fastify.close()

  // One small index read at start-up; each module is read on the first request that needs it.
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const header = '// Written by scripts/compile-schemas.ts (npm run build). Do not edit.\n'
  writeFileSync(path.join(outDir, 'index.cjs'), `'use strict'\n${header}module.exports = ${JSON.stringify(keys, null, 1)}\n`)
  code.forEach((source, index) => writeFileSync(path.join(outDir, `${index}.cjs`),
    `'use strict'\n${header}module.exports = function (module, exports, require) {\n${source}\n}\n`))
  return { schemas: Object.keys(keys).length, modules: code.length }
}

if (import.meta.filename === process.argv[1]) {
  const out = process.argv[2] ?? path.join(import.meta.dirname, '..', 'compiled-schemas')
  const { schemas, modules } = await compileSchemas(out)
  console.log(`compile-schemas: ${schemas} schemas, ${modules} distinct modules → ${path.relative(process.cwd(), out)}`)
}
