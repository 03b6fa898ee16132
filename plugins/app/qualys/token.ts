import { abortable } from '../../../lib/abortable.js'
import { boundedCache } from '../../../lib/bounded-cache.js'
import { isTimeout, RelayError } from '../../../lib/errors.js'
import type { QualysToken } from '../../../schemas/qualys.js'
import type { State } from '../state/index.js'
import type { Call } from './chain.js'

const TOKEN_LIFETIME_MS = 4 * 3600_000
const MARGIN_MS = 5 * 60_000 // a token is dropped this long before it expires

// When the Qualys token expires: its `exp` claim if readable, capped at the documented 4 hours.
function expiry (token: string, now: number): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
    if (typeof payload?.exp === 'number') return Math.min(payload.exp * 1000, now + TOKEN_LIFETIME_MS)
  } catch {}
  return now + TOKEN_LIFETIME_MS
}

// Sends the call's login (POST /auth) down to the transport and reads the token from its answer.
export type LogIn = (call: Call) => Promise<string>

// One credential's token in this process: the one in use, and the logins under way.
interface Kept { cached?: QualysToken, pending?: Promise<string>, forced?: Promise<string> }

// Every credential's token, created once by the auth layer: one login per credential across the
// replicas (under the state's login lock, after looking again whether another replica logged in
// meanwhile), and one at a time in the process, shared by every request that needs a token
// meanwhile. A login is made within the time of the request that started it; a request that
// joined it and still has time logs in again if that one ran out, and any other login failure
// stops the request's Qualys calls (SPEC §4).
export function createTokenStore ({ state }: { state: State }) {
  const kept = boundedCache<string, Kept>(10_000)
  const of = (key: string): Kept => {
    let k = kept.get(key)
    if (k === undefined) kept.set(key, k = {})
    return k
  }
  const valid = (t: QualysToken | undefined) => t !== undefined && t.expiresAt > Date.now()

  async function obtain (call: Call, logIn: LogIn, options: { stale?: string, force?: boolean }): Promise<string> {
    const { key } = call.account
    const { signal } = call.deadline
    const k = of(key)
    const use = (t: QualysToken) => { k.cached = t; return t.token }
    // A token some replica got (the store), unless it is the one Qualys just refused.
    const stored = async () => {
      if (options.force === true) return undefined
      const t = await state.tokens.get(key, 'token', signal)
      return valid(t) && t?.token !== options.stale ? t : undefined
    }
    const known = await stored()
    if (known !== undefined) return use(known)
    const release = await state.lock(key, 'login', signal)
    try {
      const now = await stored()
      if (now !== undefined) return use(now)
      const token = await logIn(call)
      const t = { token, expiresAt: expiry(token, Date.now()) - MARGIN_MS }
      await state.tokens.set(key, 'token', t, t.expiresAt - Date.now())
      return use(t)
    } finally {
      release()
    }
  }

  // This request's wait for a login that may be shared.
  async function join (call: Call, get: () => Promise<string>): Promise<string> {
    const { deadline } = call
    deadline.check() // a stopped request tries no further login
    try {
      return await abortable(get(), deadline.signal)
    } catch (err) {
      if (isTimeout(err) && !deadline.passed) return join(call, get)
      if (err instanceof RelayError && !isTimeout(err)) deadline.stop(err)
      throw err
    }
  }

  const singleFlight = (call: Call, logIn: LogIn, stale?: string) => {
    const k = of(call.account.key)
    k.pending ??= obtain(call, logIn, { stale }).finally(() => { k.pending = undefined })
    return k.pending
  }

  return {
    // The credential's token: this process's, else the store's, else one login.
    current: (call: Call, logIn: LogIn): Promise<string> => {
      const { cached } = of(call.account.key)
      return valid(cached) ? Promise.resolve(cached?.token as string) : join(call, () => singleFlight(call, logIn))
    },
    // A new login whatever is kept (health), joining one under way.
    fresh: (call: Call, logIn: LogIn): Promise<string> => join(call, () => {
      const k = of(call.account.key)
      k.forced ??= obtain(call, logIn, { force: true }).finally(() => { k.forced = undefined })
      return k.forced
    }),
    // After a 401: one new login shared by the requests that met it.
    refresh: (call: Call, logIn: LogIn, stale: string): Promise<string> => join(call, () => {
      const k = of(call.account.key)
      if (k.cached?.token === stale) k.cached = undefined
      return valid(k.cached) ? Promise.resolve(k.cached?.token as string) : singleFlight(call, logIn, stale)
    })
  }
}
