import type { Dispatcher } from 'undici'
import { networkCause, networkError, RelayError } from '../../../../lib/errors.js'
import { scrub } from '../../../../lib/secrets.js'
import type { Next, OnCall } from '../chain.js'
import { get } from '../../../../lib/qualys/protocol.js'

// The bottom of the stack: one GET over the client's undici Agent, within the request's deadline,
// the answer's text scrubbed of every secret the call carried.
export function transport ({ dispatcher, onCall }: { dispatcher: Dispatcher, onCall: OnCall }): Next {
  return async (call) => {
    const { account, deadline } = call
    const token = call.token as string // the auth layer sets it
    deadline.check()
    try {
      const answer = await get(dispatcher, `${account.apiUrl}${call.path}?${call.query}`, token, deadline.signal)
      onCall(String(answer.status))
      return { ...answer, text: scrub(answer.text, [...account.secrets, token]) }
    } catch (err) {
      if (deadline.passed) throw deadline.timeout()
      if (err instanceof RelayError) throw err
      onCall('network_error')
      call.log?.warn({ cause: networkCause(err), path: call.path }, 'qualys: no answer (network error)')
      throw networkError(err, account.apiUrl)
    }
  }
}
