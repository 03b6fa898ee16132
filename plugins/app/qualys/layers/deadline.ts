import type { Layer } from '../chain.js'

// The top of the stack: nothing starts once the request's deadline passed or its calls were
// stopped. Nothing below makes the request wait longer: every wait takes the deadline's signal
// (the state, undici, the throttle's and retries' sleeps, a shared login or fetch joined).
// It counts the calls under way, so a request that ended keeps its timer for those (deadline.ts).
export const deadline: Layer = async (call, next) => {
  call.deadline.check()
  call.deadline.enter()
  try {
    return await next(call)
  } finally {
    call.deadline.leave()
  }
}
