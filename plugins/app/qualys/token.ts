import type { Dispatcher } from 'undici'
import { networkCause, networkError, qualysError, RelayError } from '../../../lib/errors.js'
import { scrub } from '../../../lib/secrets.js'
import type { Log, OnCall, QualysToken } from '../../../schemas/qualys.js'
import type { State } from '../state/index.js'
import { login, PATH, readToken } from '../../../lib/qualys/protocol.js'

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

export interface TokenOptions {
  apiUrl: string
  user: string
  pass: string
  key: string // the credential hash: keys the stored token and the login lock
  state: State
  dispatcher: Dispatcher
  deadlineMs: number
  onCall: OnCall
  log: Log // a login serves every request of the credential: logged by the app, not one request
}

export interface Tokens {
  current: () => Promise<string> // cached (this process, then the store), else one login
  fresh: () => Promise<string> // a new login whatever is stored (health), joining one under way
  refresh: (stale: string) => Promise<string> // after a 401: one new login shared by concurrent 401s
}

async function fetchToken (o: TokenOptions): Promise<QualysToken> {
  o.onCall('login')
  let token: string
  try {
    const answer = await login(o.dispatcher, o.apiUrl, o.user, o.pass, AbortSignal.timeout(o.deadlineMs))
    token = readToken({ ...answer, text: scrub(answer.text, [o.pass]) })
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw qualysError.timeout(o.deadlineMs)
    if (err instanceof RelayError) throw err
    o.log.warn({ cause: networkCause(err), path: PATH.auth }, 'qualys: no answer to the login (network error)')
    throw networkError(err, o.apiUrl)
  }
  return { token, expiresAt: expiry(token, Date.now()) - MARGIN_MS }
}

// One credential's token: one login per credential across the replicas (under the store's login
// lock, after looking again whether another replica logged in meanwhile), and one at a time in
// the process, shared by everyone who needs a token meanwhile.
export function createTokens (o: TokenOptions): Tokens {
  let cached: QualysToken | undefined
  let pending: Promise<string> | undefined
  let forced: Promise<string> | undefined
  const use = (t: QualysToken) => { cached = t; return t.token }
  // A token some replica got (the store), unless it is the one Qualys just refused.
  const stored = async (stale?: string) => {
    const t = await o.state.tokens.get(o.key, 'token')
    return t !== undefined && t.expiresAt > Date.now() && t.token !== stale ? t : undefined
  }
  const obtain = async (options: { stale?: string, force?: boolean }): Promise<string> => {
    const known = options.force === true ? undefined : await stored(options.stale)
    if (known !== undefined) return use(known)
    let release: (() => void) | undefined
    try {
      release = await o.state.lock(o.key, 'login', AbortSignal.timeout(o.deadlineMs))
      const now = options.force === true ? undefined : await stored(options.stale)
      if (now !== undefined) return use(now)
      const t = await fetchToken(o)
      await o.state.tokens.set(o.key, 'token', t, t.expiresAt - Date.now())
      return use(t)
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw qualysError.timeout(o.deadlineMs)
      throw err
    } finally {
      release?.()
    }
  }
  const singleFlight = (stale?: string) => {
    pending ??= obtain({ stale }).finally(() => { pending = undefined })
    return pending
  }
  return {
    current: async () => cached !== undefined && cached.expiresAt > Date.now() ? cached.token : singleFlight(),
    fresh: () => {
      forced ??= obtain({ force: true }).finally(() => { forced = undefined })
      return forced
    },
    refresh: async (stale) => {
      if (cached?.token === stale) cached = undefined
      return cached !== undefined ? cached.token : singleFlight(stale)
    }
  }
}
