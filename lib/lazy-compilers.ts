import { createRequire } from 'node:module'

// Fastify's own compilers (ajv, fast-json-stringify) for schemas that `npm run build` did not
// compile ahead (lib/schema-compilers.ts): running from the sources, or a schema the build did not
// see. Each compiles on its first use, or in the background once the server listens (warmUp),
// whichever comes first. The compilers themselves are loaded on the first such schema only: a
// built relay whose schemas all came from the build never loads ajv or fast-json-stringify's compiler.

const require = createRequire(import.meta.url)

export type Build<F> = (routeSchema: unknown) => F
export type Validate = ((data: unknown) => unknown) & { errors?: unknown }
export type Serialize = (data: unknown) => string
type Selector<F> = (externalSchemas: unknown, options: unknown) => Build<F>

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

// One app's run-time compilers: its own selectors (Ajv instances are pooled by options, as Fastify
// keeps them) and its own list of compilations not done yet.
export function lazyCompilers () {
  const pending = new Set<() => void>()
  let validators: Selector<Validate> | undefined
  let serializers: Selector<Serialize> | undefined
  const validatorSelector = () => (validators ??= (require('@fastify/ajv-compiler') as () => Selector<Validate>)())
  const serializerSelector = () => (serializers ??= (require('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => Selector<Serialize> }).SerializerSelector())

  function lazy<F> (selector: () => Selector<F>, deferred: (get: () => F) => F) {
    return (externalSchemas: unknown, options: unknown): Build<F> => {
      let build: Build<F> | undefined
      return (routeSchema) => {
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

  // Compilations not done yet, one per event-loop turn.
  function warmUp (): void {
    const next = pending.values().next()
    if (next.done === true) return
    next.value()
    setImmediate(warmUp)
  }

  return { validator: lazy(validatorSelector, deferredValidator), serializer: lazy(serializerSelector, deferredSerializer), warmUp }
}
