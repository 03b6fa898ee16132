import type { Account } from './account.js'
import type { Deadline } from './deadline.js'
import { PATH, type Answer, type ApiPath } from '../../../lib/qualys/protocol.js'
import type { Events, Log } from '../../../schemas/qualys.js'

export type { Log, OnCall } from '../../../schemas/qualys.js'

// The Qualys client is one stack of layers with one shape, `(call, next) => answer`, composed once
// (plugins/app/qualys/index.ts): a call goes down the stack to the transport and its answer comes
// back up the same stack; each layer acts on the way down and records what it learnt on the way
// up. Koa-style functions rather than undici interceptors: every Qualys answer is small and read
// whole, and most layers are about the relay's shared state (slots, locks, the budget), not the
// HTTP exchange, so a promise of the whole answer is the simpler contract.

// Whose call it is: investigations (observe, deliberate) may spend the whole budget and go first;
// tiles and health spend only above the reserve (SPEC §12).
export type Purpose = 'investigation' | 'tile' | 'health'

export interface Call {
  account: Account
  deadline: Deadline
  purpose: Purpose
  log?: Log
  path: ApiPath | typeof PATH.auth // the login (POST /auth), or a GET
  query: string
  cached?: boolean // a lookup: one fetch per (credential, query), answers kept LOOKUP_CACHE_TTL_S
  token?: string // the bearer token: set by the auth layer only
  batchBytes?: number // a batched events call: its filter's encoded length (the batch-size layer learns from a refusal)
}

// The login goes down the same stack as every call (the deadline, one network-error mapping and
// metric in the transport), but takes no slot, waits out no throttling and spends no budget:
// Qualys does not count logins, and /health's login must prove the password even when the budget
// is at its reserve. The auth layer answers it.
export const isLogin = (call: Call): boolean => call.path === PATH.auth

export type Next = (call: Call) => Promise<Answer>
export type Layer = (call: Call, next: Next) => Promise<Answer>

export function compose (layers: Layer[], last: Next): Next {
  return layers.reduceRight<Next>((next, layer) => (call) => layer(call, next), last)
}

// One relay request's side of its Qualys calls: one credential, one deadline, one purpose, and
// `ask`, which sends a call down the composed stack.
export interface Conversation {
  account: Account
  deadline: Deadline
  purpose: Purpose
  log?: Log
  ask: Ask
  login: () => Promise<void> // a new login whatever token is kept (health), joining one under way
  events: Events // pages of events through `ask`, for the lookup planner
  end: () => void // the request is answered: its deadline's timer goes (after any call still under way)
}

export type Ask = (path: ApiPath, query: string, extra?: Pick<Call, 'cached' | 'batchBytes'>) => Promise<Answer>
