import { qualysError } from '../../../../lib/errors.js'
import type { Budget } from '../../../../schemas/qualys.js'
import type { State } from '../../state/index.js'
import { maySpend, type Reserve } from '../budget.js'
import { isLogin, type Layer, type Purpose } from '../chain.js'

export interface BudgetOptions {
  state: State
  reserve: Reserve
  onBudget: (account: string, seen: Budget) => void // what the headers said (gauges)
  onSpend: (account: string, remaining?: number) => void // the relay's view after a call or an answer
  onHeld: (purpose: Purpose) => void
}

// The credential's Qualys budget, by priority (SPEC §12): on the way down, a tile or health call
// is held back when the budget is at its reserve, and every call sent counts in the shared view
// (in flight until it comes back); on the way back up, what Qualys' headers said goes into it
// (one warning when it falls below 10 % of the limit, again only after it recovered).
export function budget ({ state, reserve, onBudget, onSpend, onHeld }: BudgetOptions): Layer {
  const low = new Set<string>()
  return async (call, next) => {
    if (isLogin(call)) return next(call) // Qualys does not count logins
    const { account, deadline: { signal } } = call
    if (call.purpose !== 'investigation' && !maySpend(await state.budget.get(account.key, signal), reserve, Date.now())) {
      onHeld(call.purpose)
      throw qualysError.heldBack()
    }
    await state.budget.spend(account.key, signal).catch((err: unknown) => {
      state.budget.settle(account.key).catch(() => {}) // counted, but we stopped waiting: never sent
      throw err
    })
    onSpend(account.label)
    let answer
    try {
      answer = await next(call)
    } finally {
      await state.budget.settle(account.key, signal)
    }
    const seen = answer.seen?.budget
    if (seen === undefined) return answer
    await state.budget.seen(account.key, seen, Date.now(), signal)
    onBudget(account.label, seen)
    onSpend(account.label, seen.remaining)
    const below = seen.remaining < seen.limit * 0.1
    if (below && !low.has(account.label)) {
      call.log?.warn({ credential: account.label, limit: seen.limit, remaining: seen.remaining, windowSec: seen.windowSec },
        'Qualys API budget below 10 % of its limit')
    }
    if (below) low.add(account.label)
    else low.delete(account.label)
    return answer
  }
}
