import { MARK } from '../state/keys.js'
import type { Account, SessionLog } from './account.js'
import type { Deadline } from './deadline.js'
import { qualysError, qualysMessage, statusError } from '../../../lib/errors.js'
import { BatchRejected, RETRIED, retryDelay, toldWait, type Answer } from './http.js'
import { send } from './transport.js'

export interface CallOptions {
  token?: string // a token obtained by the caller (health's fresh login)
  batch?: boolean // a refusal for size or syntax throws BatchRejected instead of reading as no events
  strict?: boolean // a 400 or 404 is an error (the health query), never "no events"
}

export interface Caller { account: Account, deadline: Deadline, log?: SessionLog }

// Statuses with which Qualys, or a front end before it, refuses a request for its size or syntax.
const REFUSALS = new Set([400, 413, 414, 431])

// After Qualys asked to wait (429/409), no session of this credential, in any replica, calls it
// before the wait is over; a wait beyond this request's deadline fails it at once.
async function throttled ({ account, deadline }: Caller) {
  const until = await deadline.race(account.state.marks.get(account.key, MARK.throttled))
  const wait = until !== undefined ? until - Date.now() : 0
  if (wait <= 0) return
  if (!deadline.leaves(wait)) throw qualysError.tooManyRequests()
  account.onCall?.('throttled')
  await deadline.wait(wait)
}

// One API call with the request's token: one refresh on a 401, retries on 429/409/503 (waiting
// what Qualys names, shared with every replica, or backing off). A 400 or 404 on /ioc/events
// reads as "nothing" (the 400 logged and counted: it is also how Qualys refuses a query), except
// for a batch, which is refused instead, and for the health query, for which it is an error.
export async function call<T> (c: Caller, path: string, query: string, parse: (res: Answer) => T, opts: CallOptions = {}): Promise<T> {
  const { account, deadline } = c
  deadline.check()
  let token = opts.token ?? await deadline.token(account.tokens.current)
  let refreshed = false
  for (let attempt = 0; ; attempt++) {
    await throttled(c)
    const res = await send(account, deadline, `${account.apiUrl}${path}?${query}`, token, c.log)
    if (res.status >= 200 && res.status < 300) return parse(res)
    if (opts.batch === true && REFUSALS.has(res.status)) throw new BatchRejected(res.status)
    if (opts.strict === true && res.status === 400) throw qualysError.refusedQuery(res.text)
    if ((res.status === 400 || res.status === 404) && path === '/ioc/events' && opts.strict !== true) {
      if (res.status === 400) {
        account.onCall?.('refused_query')
        c.log?.warn({ status: 400, qualys: qualysMessage(res.text) }, 'Qualys refused a query (400): read as no events')
      }
      return parse({ ...res, status: 204, text: '' })
    }
    if (res.status === 401) {
      if (refreshed) deadline.stop(statusError(401, res.text, false))
      refreshed = true
      const stale = token
      token = await deadline.token(() => account.tokens.refresh(stale))
      continue
    }
    if (RETRIED.has(res.status)) {
      const wait = retryDelay(res.headers, attempt)
      // A wait Qualys named (429/409) binds every session of the credential, in every replica.
      if (res.status !== 503 && toldWait(res.headers)) {
        await account.state.marks.set(account.key, MARK.throttled, Date.now() + wait, wait)
      }
      if (attempt < account.retries && deadline.leaves(wait)) {
        account.onCall?.('retry')
        await deadline.wait(wait)
        continue
      }
    }
    throw statusError(res.status, res.text, false)
  }
}
