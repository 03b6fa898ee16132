import type { Layer } from '../chain.js'

// The top of the stack: nothing starts once the request's deadline passed or its calls were
// stopped. Nothing below makes the request wait longer: every wait takes the deadline's signal
// (the state, undici, the throttle's and retries' sleeps, a shared login or fetch joined).
export const deadline: Layer = (call, next) => {
  call.deadline.check()
  return next(call)
}
