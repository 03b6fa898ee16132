import { statusError } from '../../../../lib/errors.js'
import type { Layer } from '../chain.js'

// The bearer token: the credential's cached token (one login across replicas), or the one the
// caller brought; on a 401 one new login and one more try; a 401 after that, like a refused
// login, stops the request's Qualys calls (SPEC §4).
export const auth: Layer = async (call, next) => {
  const { account, deadline } = call
  const token = call.token ?? await deadline.token(account.tokens.current)
  const answer = await next({ ...call, token })
  if (answer.status !== 401) return answer
  const fresh = await deadline.token(() => account.tokens.refresh(token))
  const again = await next({ ...call, token: fresh })
  if (again.status === 401) deadline.stop(statusError(401, again.text, false))
  return again
}
