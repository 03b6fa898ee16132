import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { qualysError, type RelayError } from '../../../lib/errors.js'

// One relay request's time for Qualys (QUALYS_DEADLINE_MS, retries and waits included), and its
// stop: once authentication failed, no further call or login is made for the request.
// The signal aborts with the relay's timeout error as its reason, so whatever takes it (every
// State method, undici, a wait) rejects with that error: no layer races the deadline by hand.
export class Deadline {
  readonly signal: AbortSignal
  readonly until: number
  private stopped?: RelayError

  constructor (readonly ms: number) {
    const controller = new AbortController()
    setTimeout(() => controller.abort(qualysError.timeout(ms)), ms).unref()
    this.signal = controller.signal
    setMaxListeners(0, this.signal) // every call of the request waits on it (50 observables: many at once)
    this.until = Date.now() + ms
  }

  get passed (): boolean { return this.signal.aborted }

  // The error a call of this request fails with once the deadline passed.
  timeout (): RelayError { return (this.signal.reason as RelayError | undefined) ?? qualysError.timeout(this.ms) }

  check (): void {
    if (this.stopped !== undefined) throw this.stopped
    this.signal.throwIfAborted()
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
}
