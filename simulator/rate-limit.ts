// Qualys' API budget per user, as the gateway announces it (qualys-api.md §4): X-RateLimit-*
// headers on every events answer, 429 with X-RateLimit-ToWait-Sec once the window is spent.
export function rateLimiter ({ limit, windowSec }: { limit: number, windowSec: number }) {
  // Counts an events call against the user's budget and sets the rate-limit headers; true when
  // the budget is spent (the call is refused).
  const spent = new Map<string, number[]>()
  return function budget (user: string, headers: Record<string, string>): boolean {
    const now = Date.now()
    const calls = (spent.get(user) ?? []).filter((at) => at > now - windowSec * 1000)
    spent.set(user, calls)
    headers['x-ratelimit-limit'] = String(limit)
    headers['x-ratelimit-window-sec'] = String(windowSec)
    if (calls.length >= limit) {
      headers['x-ratelimit-remaining'] = '0'
      headers['x-ratelimit-towait-sec'] = String(Math.ceil(((calls[0] as number) + windowSec * 1000 - now) / 1000))
      return true
    }
    calls.push(now)
    headers['x-ratelimit-remaining'] = String(limit - calls.length)
    return false
  }
}
