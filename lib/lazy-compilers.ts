import AjvCompiler from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'

// Fastify compiles every route's validators and serializers while it starts (ajv and
// fast-json-stringify were ~300 ms of the relay's start-up, plus the garbage they left). These
// factories are Fastify's own compilers, compiling each schema on its first use instead, or in the
// background once the server listens (warmUp), whichever comes first: a replica answers sooner,
// and the first real request does not pay for the compilation. What each route compiles is unchanged.

// Compilations not done yet: warmUp runs them one per event-loop turn.
const pending = new Set<() => void>()

export function warmUp (): void {
  const next = pending.values().next()
  if (next.done === true) return
  next.value()
  setImmediate(warmUp)
}

type Build<F> = (routeSchema: never) => F
type Validate = ((data: unknown) => unknown) & { errors?: unknown }

// One selector each, as Fastify keeps them: Ajv instances are pooled by options, not per context.
const validators = (AjvCompiler as unknown as () => (e: unknown, o: unknown) => Build<Validate>)()
const serializers = (SerializerSelector as unknown as () => (e: unknown, o: unknown) => Build<(data: unknown) => string>)()

// The Ajv instance itself is made on the first validation too.
function lazyValidators (externalSchemas: unknown, options: unknown) {
  let build: Build<Validate> | undefined
  return (routeSchema: never): Validate => {
    let compiled: Validate | undefined
    const compile = () => {
      pending.delete(compile)
      compiled ??= (build ??= validators(externalSchemas, options))(routeSchema)
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

function lazySerializers (externalSchemas: unknown, options: unknown) {
  let build: Build<(data: unknown) => string> | undefined
  return (routeSchema: never) => {
    let compiled: ((data: unknown) => string) | undefined
    const compile = () => {
      pending.delete(compile)
      compiled ??= (build ??= serializers(externalSchemas, options))(routeSchema)
      return compiled
    }
    pending.add(compile)
    return (data: unknown) => (compiled ?? compile())(data)
  }
}

export const lazyCompilers = { buildValidator: lazyValidators, buildSerializer: lazySerializers }
