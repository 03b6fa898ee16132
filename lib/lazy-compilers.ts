import { createRequire } from 'node:module'

// Fastify's own compilers (ajv, fast-json-stringify) for schemas that `npm run build` did not
// compile ahead (lib/schema-compilers.ts): running from the sources, or a schema the build did not
// see. Each compiles on its first use, or in the background once the server listens (warmUp),
// whichever comes first. The compilers themselves are loaded on the first such schema only: a
// built relay whose schemas all came from the build never loads ajv or fast-json-stringify's compiler.

const require = createRequire(import.meta.url)

export type Build<F> = (routeSchema: never) => F
export type Validate = ((data: unknown) => unknown) & { errors?: unknown }
export type Serialize = (data: unknown) => string
type Selector<F> = (externalSchemas: unknown, options: unknown) => Build<F>

// Compilations not done yet: warmUp runs them one per event-loop turn.
const pending = new Set<() => void>()

export function warmUp (): void {
  const next = pending.values().next()
  if (next.done === true) return
  next.value()
  setImmediate(warmUp)
}

// One selector each, as Fastify keeps them (Ajv instances are pooled by options, not per context).
let validators: Selector<Validate> | undefined
let serializers: Selector<Serialize> | undefined
const validatorSelector = () => (validators ??= (require('@fastify/ajv-compiler') as () => Selector<Validate>)())
const serializerSelector = () => (serializers ??= (require('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => Selector<Serialize> }).SerializerSelector())

export function lazyValidator (externalSchemas: unknown, options: unknown) {
  let build: Build<Validate> | undefined
  return (routeSchema: never): Validate => {
    let compiled: Validate | undefined
    const compile = () => {
      pending.delete(compile)
      compiled ??= (build ??= validatorSelector()(externalSchemas, options))(routeSchema)
      return compiled
    }
    pending.add(compile)
    const validate: Validate = (data) => {
      const valid = (compiled ?? compile())(data)
      validate.errors = (compiled as Validate).errors
      return valid
    }
    return validate
  }
}

export function lazySerializer (externalSchemas: unknown, options: unknown) {
  let build: Build<Serialize> | undefined
  return (routeSchema: never): Serialize => {
    let compiled: Serialize | undefined
    const compile = () => {
      pending.delete(compile)
      compiled ??= (build ??= serializerSelector()(externalSchemas, options))(routeSchema)
      return compiled
    }
    pending.add(compile)
    return (data: unknown) => (compiled ?? compile())(data)
  }
}
