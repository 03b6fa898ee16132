import type { Dispatcher } from 'undici'
import { networkCause, networkError, RelayError, type ProxyRoute } from '../../../../lib/errors.js'
import { scrub } from '../../../../lib/secrets.js'
import { isLogin, type Next, type OnCall } from '../chain.js'
import { get, login } from '../../../../lib/qualys/protocol.js'

// The bottom of the stack: the login (POST /auth) or one GET over the client's undici Agent,
// within the request's deadline, the answer's text scrubbed of every secret the call carried.
// Network errors are mapped here, once, for both (the egress proxy's by what it answered).
export function transport ({ dispatcher, proxyFor, onCall }: { dispatcher: Dispatcher, proxyFor: (url: string) => ProxyRoute | undefined, onCall: OnCall }): Next {
  return async (call) => {
    const { account, deadline } = call
    deadline.check()
    const secrets = call.token === undefined ? account.secrets : [...account.secrets, call.token]
    try {
      let answer
      if (isLogin(call)) {
        onCall('login')
        answer = await login(dispatcher, account.apiUrl, account.user, account.pass, deadline.signal)
      } else {
        answer = await get(dispatcher, `${account.apiUrl}${call.path}?${call.query}`, call.token as string, deadline.signal) // the auth layer sets the token
        onCall(String(answer.status))
      }
      return { ...answer, text: scrub(answer.text, secrets) }
    } catch (err) {
      if (deadline.passed) throw deadline.timeout()
      if (err instanceof RelayError) throw err
      onCall('network_error')
      const proxy = proxyFor(account.apiUrl)
      call.log?.warn({ cause: networkCause(err), path: call.path, ...(proxy === undefined ? {} : { proxy: proxy.host }) },
        isLogin(call) ? 'qualys: no answer to the login (network error)' : 'qualys: no answer (network error)')
      throw networkError(err, account.apiUrl, proxy)
    }
  }
}
