import { HeldBackError, RelayError } from '../../../lib/errors.js'
import type { RelayErrorBody } from '../../../schemas/envelope.js'
import type { State } from '../state/index.js'
import type { Conversation } from './chain.js'
import { HEALTH_QUERY, PATH, readHealth } from '../../../lib/qualys/protocol.js'

// What one real check found: ok (whether Qualys was searched, or only logged in to because the
// budget was at its reserve), or the error.
type Outcome = { ok: true, searched: boolean } | { error: RelayErrorBody }

// /health (SPEC §1, §12): a fresh login (it proves the password, not just a cached token) and a
// one-event Active call that is never served from the lookup cache — at most once per credential
// per HEALTH_CACHE_S across the replicas: XDR and monitors may ask often, and every search
// spends the customer's Qualys budget. A budget at its reserve is not unhealthy: the login still
// proves the credentials (Qualys does not count logins against the budget).
export function createHealth ({ state, ttlMs }: { state: State, ttlMs: number }) {
  async function check (c: Conversation): Promise<Outcome> {
    try {
      await c.login()
      readHealth(await c.ask(PATH.events, HEALTH_QUERY))
      return { ok: true, searched: true }
    } catch (err) {
      if (err instanceof HeldBackError) return { ok: true, searched: false }
      if (err instanceof RelayError) return { error: err.toJSON() }
      throw err
    }
  }

  return async function health (c: Conversation): Promise<{ searched: boolean }> {
    c.deadline.check()
    const { key } = c.account
    const { signal } = c.deadline
    let outcome = await state.results.get(key, 'health', signal) as Outcome | undefined
    if (outcome === undefined) {
      const release = await state.lock(key, 'health', signal)
      try {
        outcome = await state.results.get(key, 'health', signal) as Outcome | undefined ?? await check(c)
        await state.results.set(key, 'health', outcome, ttlMs)
      } finally {
        release()
      }
    }
    if ('error' in outcome) throw new RelayError(outcome.error.code, outcome.error.message, outcome.error.type)
    return { searched: outcome.searched }
  }
}
