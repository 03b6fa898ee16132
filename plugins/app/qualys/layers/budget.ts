import type { Budget } from '../../../../schemas/qualys.js'
import type { Layer } from '../chain.js'

// What Qualys says of the credential's API budget (X-RateLimit-*), read on the way back up:
// gauges per account, and one warning when it falls below 10 % of the limit (again only after it
// recovered).
export function budget ({ onBudget }: { onBudget: (account: string, budget: Budget) => void }): Layer {
  const low = new Set<string>()
  return async (call, next) => {
    const answer = await next(call)
    const seen = answer.seen?.budget
    if (seen === undefined) return answer
    const { label } = call.account
    onBudget(label, seen)
    const below = seen.remaining < seen.limit * 0.1
    if (below && !low.has(label)) {
      call.log?.warn({ credential: label, limit: seen.limit, remaining: seen.remaining, windowSec: seen.windowSec },
        'Qualys API budget below 10 % of its limit')
    }
    if (below) low.add(label)
    else low.delete(label)
    return answer
  }
}
