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

// A compiled function standing in for one that is made on its first call (`get`): the validator
// passes on its errors, as Fastify reads them from the function it was given.
export function deferredValidator (get: () => Validate): Validate {
  const validate: Validate = (data) => {
    const code = get()
    const valid = code(data)
    validate.errors = code.errors
    return valid
  }
  return validate
}
export const deferredSerializer = (get: () => Serialize): Serialize => (data) => get()(data)

function lazy<F> (selector: () => Selector<F>, deferred: (get: () => F) => F) {
  return (externalSchemas: unknown, options: unknown): Build<F> => {
    let build: Build<F> | undefined
    return (routeSchema: never): F => {
      let compiled: F | undefined
      const compile = (): F => {
        pending.delete(compile)
        return (compiled ??= (build ??= selector()(externalSchemas, options))(routeSchema))
      }
      pending.add(compile)
      return deferred(() => compiled ?? compile())
    }
  }
}

export const lazyValidator = lazy(validatorSelector, deferredValidator)
export const lazySerializer = lazy(serializerSelector, deferredSerializer)
