import type { BudgetView } from '../../../schemas/qualys.js'
import { othersSpent, remaining, windowMs } from '../state/budget.js'

// How the relay spends a credential's Qualys budget (SPEC §12). Investigations may spend all of
// it. Tiles and health spend only while what is left stays above the reserve
// (QUALYS_BUDGET_RESERVE) plus what the subscription's other consumers are expected to spend
// before the window ends (at the pace they spent since it began): the reserve is for the
// investigations to come, and another tool's share is never the relay's to take.

export type Reserve = { calls: number } | { percent: number }

export function parseReserve (text: string): Reserve {
  return text.endsWith('%') ? { percent: Number(text.slice(0, -1)) } : { calls: Number(text) }
}

export const reserveCalls = (reserve: Reserve, limit: number) =>
  'percent' in reserve ? Math.ceil(limit * reserve.percent / 100) : reserve.calls

// What other consumers will still spend in this window at their pace so far (counted over at
// least a tenth of the window, so that a first call or two does not read as a rush).
export function othersAhead (view: BudgetView, now: number): number {
  const w = windowMs(view)
  const left = view.start + w - now
  if (left <= 0) return 0
  return othersSpent(view) / Math.max(view.seenAt - view.start, w / 10) * left
}

// Whether a tile or health call (or `calls` of them: a whole tile) may spend now. Nothing is held
// back while the budget is unknown (no answer with the headers yet), nor with a reserve of 0
// (every call first come, first served).
export function maySpend (view: BudgetView | undefined, reserve: Reserve, now: number, calls = 1): boolean {
  if (view === undefined) return true
  const kept = reserveCalls(reserve, view.limit)
  if (kept <= 0) return true
  return remaining(view, now) - calls >= kept + othersAhead(view, now)
}

// The budget as /health reports it.
export function budgetReport (view: BudgetView, now: number) {
  return {
    remaining: remaining(view, now),
    limit: view.limit,
    ...(view.windowSec === undefined ? {} : { window_seconds: view.windowSec }),
    seen_at: new Date(view.seenAt).toISOString()
  }
}
