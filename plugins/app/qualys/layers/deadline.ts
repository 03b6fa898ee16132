import type { Layer } from '../chain.js'

// The top of the stack: nothing starts once the request's deadline passed or its calls were
// stopped, and nothing below (a shared login, another request's fetch) makes it wait longer.
export const deadline: Layer = (call, next) => {
  call.deadline.check()
  return call.deadline.race(next(call))
}
