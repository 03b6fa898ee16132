import type { Simulator } from '../../simulator/index.js'

// Every API call a user made, by query: each (credential, query) should be fetched once. What
// was fetched more than once, with how often.
export function fetchedTwice (sim: Simulator): string[] {
  const seen = new Map<string, number>()
  for (const c of sim.calls) {
    if (c.path === 'auth' || c.path === 'other') continue
    const key = `${c.user} ${c.path} ${c.state} ${c.pageSize}/${c.pageNumber} ${c.filter}`
    seen.set(key, (seen.get(key) ?? 0) + 1)
  }
  return [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${n}× ${k}`)
}
