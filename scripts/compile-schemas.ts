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
type Standalone = (opts: { readMode: false, storeFunction: Store }) => (externalSchemas: unknown, options: unknown) => unknown

export async function compileSchemas (outDir: string): Promise<{ schemas: number, modules: number }> {
  const keys: Record<string, number> = {}
  const code: string[] = []
  const indexOf = new Map<string, number>()
  const writing = (kind: Kind, standalone: Standalone, extra: object) => (externalSchemas: unknown, opts: unknown) => {
    // The key is made of what Fastify passes, as the relay will see it at run time.
    const context = contextKey(kind, externalSchemas, opts)
    const store: Store = (route, source) => {
      let index = indexOf.get(source)
      if (index === undefined) indexOf.set(source, (index = code.push(source) - 1))
      keys[schemaKey(context, route)] = index
    }
    return standalone({ readMode: false, storeFunction: store })(externalSchemas, { ...(opts as object), ...extra })
  }
  const fastify = Fastify({
    ...options,
    logger: false,
    schemaController: {
      compilersFactory: {
        buildValidator: writing('validator', require('@fastify/ajv-compiler').StandaloneValidator, {}),
        buildSerializer: writing('serializer', require('@fastify/fast-json-stringify-compiler').StandaloneSerializer, { inlineValidators: true })
      } as never
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
