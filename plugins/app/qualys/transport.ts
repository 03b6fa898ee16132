import { request } from 'undici'
import { networkError, qualysError, RelayError } from '../../../lib/errors.js'
import { USER_AGENT } from '../../../lib/version.js'
import type { Budget, QualysEvent } from '../../../schemas/qualys.js'
import { MARK, TTL } from '../state/keys.js'
import type { Account, SessionLog } from './account.js'
import type { Deadline } from './deadline.js'
import { scrub } from '../../../lib/secrets.js'
import { header, readText, type Answer } from './http.js'

// X-RateLimit-Limit / -Remaining / -Window-Sec, when Qualys sends the first two as numbers.
function readBudget (headers: Answer['headers']): Budget | undefined {
  const num = (name: string) => {
    const v = header(headers, name)
    return v === undefined || v.trim() === '' ? NaN : Number(v)
  }
  const limit = num('x-ratelimit-limit')
  const remaining = num('x-ratelimit-remaining')
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || limit <= 0) return undefined
  const windowSec = num('x-ratelimit-window-sec')
  return { limit, remaining, windowSec: Number.isFinite(windowSec) ? windowSec : undefined }
}

// What an answer's headers teach about the account: a lower cap on calls in flight (both
// spellings Qualys documents, qualys-api.md §2.6), shared with every replica, and the budget.
function learn (account: Account, headers: Answer['headers'], log?: SessionLog) {
  const limit = Number(header(headers, 'x-concurrency-limit-limit') ?? header(headers, 'x-concurrencylimit-limit'))
  if (Number.isInteger(limit) && limit >= 1 && limit < account.concurrency) {
    account.concurrency = limit
    account.state.marks.set(account.key, MARK.concurrency, limit, TTL.learntMs).catch(() => {})
  }
  const budget = readBudget(headers)
  if (budget !== undefined) account.budget(budget, log)
}

// One GET with this request's token and deadline; the answer's text scrubbed of every secret.
export async function send (account: Account, deadline: Deadline, url: string, token: string, log?: SessionLog): Promise<Answer> {
  deadline.check()
  try {
    const res = await request(url, {
      method: 'GET',
      dispatcher: account.dispatcher,
      signal: deadline.signal,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': USER_AGENT }
    })
    learn(account, res.headers, log)
    const text = scrub(await readText(res.body), [...account.secrets, token])
    account.onCall?.(String(res.statusCode))
    return { status: res.statusCode, headers: res.headers, text }
  } catch (err) {
    if (deadline.passed) throw deadline.timeout()
    if (err instanceof RelayError) throw err
    account.onCall?.('network_error')
    throw networkError(err, account.apiUrl)
  }
}

export function json (res: Answer): unknown {
  try { return JSON.parse(res.text) } catch { throw qualysError.invalidBody(res.text) }
}

// An events answer: a bare JSON array; 204 or an empty body is "no events".
export function parseEvents (res: Answer): QualysEvent[] {
  if (res.status === 204 || res.text.trim() === '') return []
  const body = json(res)
  if (!Array.isArray(body)) throw qualysError.invalidBody(res.text)
  return body.filter((e): e is QualysEvent => e !== null && typeof e === 'object' && !Array.isArray(e))
}
