import type { Conversation } from './chain.js'
import { HEALTH_QUERY, PATH, readHealth } from './protocol.js'

// /health (SPEC §1): a fresh login (it proves the password, not just a cached token) and a
// one-event Active call that is never served from the lookup cache.
export async function checkHealth (c: Conversation): Promise<void> {
  c.deadline.check()
  const token = await c.deadline.token(c.account.tokens.fresh)
  readHealth(await c.ask(PATH.events, HEALTH_QUERY, { token }))
}
