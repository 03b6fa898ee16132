// Qualys' API budget as the gateway announces it (qualys-api.md §4): X-RateLimit-Limit,
// -Remaining and -Window-Sec on every API answer, 429 with X-RateLimit-ToWait-Sec once it is
// spent. The docs say the limits are per subscription, over a sliding window; the simulator also
// plays a window that resets at fixed times (the budget every user and tool of the subscription
// spends from, as the other consumers of a real tenant do), and the old per-user sliding window.
// Where tenants differ, the headers can be missing, empty (x-ratelimit-limit: "", seen by
// Elastic's integration) or garbage.

export interface RateLimit {
  limit: number
  windowSec: number
  mode?: 'subscription-fixed' | 'subscription-sliding' | 'user-sliding' // default subscription-fixed
  headers?: 'documented' | 'missing' | 'empty' | 'garbage'
  // A tenant's header sent as this literal text whatever the count (the other headers as
  // `headers` says): a bad Remaining beside a valid Limit, or the other way round.
  limitAs?: string
  remainingAs?: string
}

// A budget: `spend` counts one call for `who` at `now` and says how many are left (or, when none
// is, the seconds until one is), setting the headers the gateway sends.
export function rateLimiter ({ limit, windowSec, mode = 'subscription-fixed', headers: variant = 'documented', limitAs, remainingAs }: RateLimit, started: number) {
  const w = windowSec * 1000
  const calls = new Map<string, number[]>() // per subscription (one key) or per user: when each call was counted
  const scope = (who: string) => mode === 'user-sliding' ? who : 'subscription'

  function counted (key: string, now: number): number[] {
    const windowStart = mode === 'subscription-fixed' ? started + Math.floor((now - started) / w) * w : now - w
    const kept = (calls.get(key) ?? []).filter((at) => mode === 'subscription-fixed' ? at >= windowStart : at > windowStart)
    calls.set(key, kept)
    return kept
  }
  // Seconds until a call is allowed again: the fixed window's end, or the oldest call's expiry.
  function toWait (kept: number[], now: number): number {
    const free = mode === 'subscription-fixed' ? started + (Math.floor((now - started) / w) + 1) * w : (kept[0] as number) + w
    return Math.max(1, Math.ceil((free - now) / 1000))
  }
  function announce (headers: Record<string, string>, remaining: number) {
    if (variant === 'missing') return
    const value = (n: number) => variant === 'empty' ? '' : variant === 'garbage' ? `${n} calls` : String(n)
    headers['x-ratelimit-limit'] = limitAs ?? value(limit)
    headers['x-ratelimit-window-sec'] = value(windowSec)
    headers['x-ratelimit-remaining'] = remainingAs ?? value(remaining)
  }

  return {
    // Counts a call of `who`; true when the budget is spent (the call is refused, with the wait).
    spend (who: string, headers: Record<string, string>, now = Date.now()): boolean {
      const kept = counted(scope(who), now)
      if (kept.length >= limit) {
        announce(headers, 0)
        headers['x-ratelimit-towait-sec'] = String(toWait(kept, now))
        return true
      }
      kept.push(now)
      announce(headers, limit - kept.length)
      return false
    },
    // What is left for `who` now, without spending.
    left: (who: string, now = Date.now()) => limit - counted(scope(who), now).length
  }
}

export type RateLimiter = ReturnType<typeof rateLimiter>
