import type { Layer, OnCall } from '../chain.js'
import { RETRIED } from '../../../../lib/qualys/protocol.js'

// Without a wait named by Qualys: exponential backoff from 100 ms to 2 s, with jitter.
const backoff = (attempt: number) => {
  const base = Math.min(2000, 100 * 2 ** attempt)
  return Math.round(base / 2 + Math.random() * base / 2)
}

// Retries a call answered 429, 409 or 503 up to QUALYS_RETRIES times, waiting what Qualys named
// (or backing off with jitter), never past the request's deadline (a named wait beyond it never
// comes up here: the throttle layer answers it). The answer that ends the retries goes up as it
// is: its reader gives the SPEC §6 error.
export function retry ({ retries, onCall }: { retries: number, onCall: OnCall }): Layer {
  return async (call, next) => {
    for (let attempt = 0; ; attempt++) {
      const answer = await next(call)
      if (!RETRIED.has(answer.status)) return answer
      const wait = answer.seen?.wait ?? backoff(attempt)
      if (attempt >= retries || !call.deadline.leaves(wait)) return answer
      onCall('retry')
      await call.deadline.wait(wait)
    }
  }
}
