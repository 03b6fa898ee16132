import { answered } from '../../../lib/abortable.js'
import { boundedCache } from '../../../lib/bounded-cache.js'
import type { Budget, BudgetView } from '../../../schemas/qualys.js'

// One credential's view of its Qualys budget (SPEC §12), kept in the state so that every replica
// shares it. Each call the relay sends counts as its own and in flight until it comes back; each
// answer's X-RateLimit-* headers say how many calls Qualys counted in the window. The calls in
// flight are never overwritten by an answer (that one's header may not count them), so they are
// never mistaken for another consumer's. The Redis implementation runs the same rules as scripts
// (redis-budget.ts); keep both alike.

// `signal` as in every State method (contract.ts): it ends the wait, never the count.
export interface BudgetStore {
  get: (credential: string, signal?: AbortSignal) => Promise<BudgetView | undefined>
  spend: (credential: string, signal?: AbortSignal) => Promise<void> // a call sent
  settle: (credential: string, signal?: AbortSignal) => Promise<void> // that call came back (answered or failed)
  seen: (credential: string, budget: Budget, at: number, signal?: AbortSignal) => Promise<void> // an answer's headers
}

export const DEFAULT_WINDOW_S = 3600 // Qualys' documented window, when no header names one
export const windowMs = (view: { windowSec?: number }) => (view.windowSec ?? DEFAULT_WINDOW_S) * 1000

// What is left now: what Qualys had not counted, less the relay's calls still in flight; a window
// past its end is full again.
export const remaining = (view: BudgetView, now: number) =>
  Math.max(0, (now >= view.seenAt + windowMs(view) ? view.limit : view.limit - view.counted) - view.inflight)

// Calls other consumers of the subscription made since the window began: what Qualys counted
// beyond the relay's own calls that came back.
export const othersSpent = (view: BudgetView) => Math.max(0, view.counted - view.base - (view.own - view.inflight))

// An answer's headers at `at`. Far fewer calls counted than before (more than the relay's calls in
// flight could explain), or a window gone by, starts a new window.
export function observe (view: Partial<BudgetView> | undefined, seen: Budget, at: number): BudgetView {
  const counted = seen.limit - seen.remaining
  const windowSec = seen.windowSec ?? view?.windowSec
  const inflight = view?.inflight ?? 0
  const renewed = view?.counted === undefined || view.start === undefined ||
    view.counted - counted > Math.max(2, seen.limit / 10) || at >= view.start + windowMs({ windowSec })
  return {
    limit: seen.limit,
    windowSec,
    seenAt: at,
    counted,
    start: renewed ? at : view.start as number,
    base: renewed ? counted : view.base as number,
    own: renewed ? inflight : view.own as number,
    inflight
  }
}

export function memoryBudget (max: number): BudgetStore {
  const views = boundedCache<string, Partial<BudgetView>>(max)
  const of = (credential: string) => {
    let view = views.get(credential)
    if (view === undefined) views.set(credential, view = {})
    return view
  }
  return {
    get: async (credential, signal) => {
      const view = views.get(credential)
      return answered(signal, view?.limit === undefined ? undefined : view as BudgetView)
    },
    spend: async (credential, signal) => {
      const view = of(credential)
      view.own = (view.own ?? 0) + 1
      view.inflight = (view.inflight ?? 0) + 1
      answered(signal, undefined)
    },
    settle: async (credential, signal) => {
      const view = of(credential)
      view.inflight = Math.max(0, (view.inflight ?? 0) - 1)
      answered(signal, undefined)
    },
    seen: async (credential, budget, at, signal) => {
      views.set(credential, observe(views.get(credential), budget, at))
      answered(signal, undefined)
    }
  }
}
