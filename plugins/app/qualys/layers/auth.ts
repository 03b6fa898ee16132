import { CODE, RelayError, statusError } from '../../../../lib/errors.js'
import { PATH, readToken } from '../../../../lib/qualys/protocol.js'
import type { State } from '../../state/index.js'
import { isLogin, type Layer, type OnCall } from '../chain.js'
import { createTokenStore } from '../token.js'

// What a login call answers up the stack once it got its token (the token itself stays here).
const LOGGED_IN = { status: 201, headers: {}, text: '' }

// The bearer token, from the token store this layer creates once: the credential's token (one
// login across replicas), each login a call of its own down to the transport; on a 401 one new
// login and one more try; a 401 after that, like a refused login, stops the request's Qualys
// calls (SPEC §4). A login call (health's) gets a new token whatever is kept.
// Qualys refusing the credentials (a login answered 401, 400 or 403, or a 401 right after a new
// login) is counted (credentials_refused): what an operator's alert watches.
const REFUSED: ReadonlySet<string> = new Set([CODE.auth, CODE.permission])

export function auth ({ state, onCall }: { state: State, onCall: OnCall }): Layer {
  const tokens = createTokenStore({ state })
  return async (call, next) => {
    const logIn = async (c: typeof call) => {
      const answer = await next({ account: c.account, deadline: c.deadline, purpose: c.purpose, log: c.log, path: PATH.auth, query: '' })
      try {
        return readToken(answer)
      } catch (err) {
        if (err instanceof RelayError && REFUSED.has(err.code)) onCall('credentials_refused')
        throw err
      }
    }
    if (isLogin(call)) {
      await tokens.fresh(call, logIn)
      return LOGGED_IN
    }
    const token = await tokens.current(call, logIn)
    const answer = await next({ ...call, token })
    if (answer.status !== 401) return answer
    const fresh = await tokens.refresh(call, logIn, token)
    const again = await next({ ...call, token: fresh })
    if (again.status === 401) {
      onCall('credentials_refused')
      call.deadline.stop(statusError(401, again.text, false))
    }
    return again
  }
}
