import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { ValidatorFactory } from '@fastify/ajv-compiler'
import type { SerializerFactory } from '@fastify/fast-json-stringify-compiler'
import { deferredSerializer, deferredValidator, lazyCompilers, type Build, type Serialize, type Validate } from './lazy-compilers.js'

// Every route's validators and serializers, compiled once by `npm run build`
// (scripts/compile-schemas.ts, Fastify's standalone mode of ajv and fast-json-stringify) into a
// directory beside app.js (compiled-schemas/: an index, and one CommonJS module per distinct
// code). A route takes its code from there when the build saw exactly its schema (same route,
// same schema, same shared schemas and compiler options, by hash); anything else compiles at run
// time (lib/lazy-compilers.ts). Nothing is compiled, hashed or evaluated while the relay starts:
// each route's code is looked up and loaded on its first request.

const require = createRequire(import.meta.url)

export type Kind = 'validator' | 'serializer'
// What Fastify passes for each schema it needs compiled.
export interface RouteSchema {
  schema?: unknown
  method?: string
  url?: string
  httpPart?: string
  httpStatus?: string
  contentType?: string
}
type ModuleCode = (module: { exports: unknown }, exports: unknown, require: NodeJS.Require) => void
// What the build wrote: each (kind, route, schema) key → the number of its module (identical
// code is written once), and the module's code, read when first needed.
interface Precompiled {
  keys: Record<string, number>
  code: (index: number) => ModuleCode
}

const hash = (text: string) => createHash('sha256').update(text).digest('base64url')

// What a compiler's output depends on besides the route's own schema.
export function contextKey (kind: Kind, externalSchemas: unknown, options: unknown): string {
  return hash(JSON.stringify([kind, externalSchemas ?? {}, options ?? {}]))
}

export function schemaKey (context: string, route: RouteSchema): string {
  const part = route.httpPart ?? route.httpStatus ?? ''
  return hash(JSON.stringify([context, route.method, route.url, part, route.contentType ?? '', route.schema]))
}

function loadPrecompiled (directory: string): Precompiled | undefined {
  const dir = path.resolve(directory)
  const index = path.join(dir, 'index.cjs')
  if (!existsSync(index)) return undefined
  return { keys: require(index), code: (n) => require(path.join(dir, `${n}.cjs`)) }
}

// The generated code requires what ajv's and fast-json-stringify's standalone output needs (ajv's
// runtime, ajv-formats, fast-json-stringify's serializer), resolved from the compilers' own place.
const ANCHORS: Record<Kind, () => string> = {
  validator: () => require.resolve('@fastify/ajv-compiler'),
  serializer: () => createRequire(require.resolve('@fastify/fast-json-stringify-compiler')).resolve('fast-json-stringify')
}

// One app's compilers (Fastify's `schemaController.compilersFactory`): the build's code where it
// has the schema, run-time compilation otherwise, and the background warm-up of the latter.
// `stats` counts where each schema looked up came from; `built` says whether the build's
// directory was found at all.
export function schemaCompilers (directory: string) {
  const precompiled = loadPrecompiled(directory)
  const lazy = lazyCompilers()
  const stats = { precompiled: 0, atRunTime: 0 }
  const requires: Partial<Record<Kind, NodeJS.Require>> = {}
  const modules = new Map<number, unknown>()
  const instantiate = (build: Precompiled, kind: Kind, index: number) => {
    if (!modules.has(index)) {
      const module = { exports: {} as unknown }
      build.code(index)(module, module.exports, requires[kind] ??= createRequire(ANCHORS[kind]()))
      modules.set(index, module.exports)
    }
    return modules.get(index)
  }
  function factory<F> (kind: Kind, runTime: (externalSchemas: unknown, options: unknown) => Build<F>, deferred: (resolve: () => F) => F) {
    return (externalSchemas: unknown, options: unknown): Build<F> => {
      if (precompiled === undefined) return runTime(externalSchemas, options)
      let context: string | undefined
      let compiler: Build<F> | undefined
      return (routeSchema) => {
        let done: F | undefined
        return deferred(() => {
          if (done !== undefined) return done
          context ??= contextKey(kind, externalSchemas, options)
          const index = precompiled.keys[schemaKey(context, routeSchema as RouteSchema)]
          if (index !== undefined) stats.precompiled++
          else stats.atRunTime++
          done = index !== undefined ? instantiate(precompiled, kind, index) as F : (compiler ??= runTime(externalSchemas, options))(routeSchema)
          return done
        })
      }
    }
  }
  // Fastify types the validator factory with Ajv's own function type (schema, schemaEnv…) but only
  // calls the function and reads its `errors`: all a deferred validator, or the build's standalone
  // code, has. The serializer factory's type is met as it is.
  const buildValidator = factory<Validate>('validator', lazy.validator, deferredValidator) as unknown as ValidatorFactory
  const buildSerializer: SerializerFactory = factory<Serialize>('serializer', lazy.serializer, deferredSerializer)
  return { buildValidator, buildSerializer, warmUp: lazy.warmUp, stats, built: precompiled !== undefined }
}

export type SchemaCompilers = ReturnType<typeof schemaCompilers>
