import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { abortable } from '../../../lib/abortable.js'
import { isTimeout, qualysError, RelayError } from '../../../lib/errors.js'

// One relay request's time for Qualys (QUALYS_DEADLINE_MS, retries and waits included), and its
// stop: once authentication failed, no further call or login is made for the request.
export class Deadline {
  readonly signal: AbortSignal
  readonly until: number
  private stopped?: RelayError

  constructor (readonly ms: number) {
    this.signal = AbortSignal.timeout(ms)
    setMaxListeners(0, this.signal) // every call of the request waits on it (50 observables: many at once)
    this.until = Date.now() + ms
  }

  get passed (): boolean { return this.signal.aborted }

  timeout (): RelayError { return qualysError.timeout(this.ms) }

  check (): void {
    if (this.stopped !== undefined) throw this.stopped
    if (this.signal.aborted) throw this.timeout()
  }

  stop (err: RelayError): never {
    this.stopped ??= err
    throw this.stopped
  }

  // The first failure of calls that only make sense together stops those not yet made.
  stopOnce (err: RelayError): void { this.stopped ??= err }

  // Whether a wait of `ms` still ends before the deadline.
  leaves (ms: number): boolean { return Date.now() + ms < this.until }

  async wait (ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.signal }).catch(() => {})
    this.check()
  }

  // Something shared (a login, another request's call) may outlive this request: stop waiting
  // for it when our deadline passes.
  race<T> (p: Promise<T>): Promise<T> {
    return abortable(p, this.signal, () => this.timeout())
  }

  // A lock or a slot taken within this request's time; one taken after we stopped waiting for it
  // is given back at once.
  async hold (taking: Promise<() => void>): Promise<() => void> {
    try {
      return await this.race(taking)
    } catch (err) {
      taking.then((release) => release(), () => {})
      throw err
    }
  }

  // A token for this request. A shared login that timed out for an earlier request is tried
  // again while this request still has time; any other login failure stops the request.
  async token (get: () => Promise<string>): Promise<string> {
    this.check() // a stopped request tries no further login
    try {
      return await this.race(get())
    } catch (err) {
      if (isTimeout(err) && !this.signal.aborted) return this.token(get)
      if (err instanceof RelayError && !isTimeout(err)) this.stop(err)
      throw err
    }
  }
}
