import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { qualysError, type RelayError } from '../../../lib/errors.js'

// One relay request's time for Qualys (QUALYS_DEADLINE_MS, retries and waits included), and its
// stop: once authentication failed, no further call or login is made for the request.
// The signal aborts with the relay's timeout error as its reason, so whatever takes it (every
// State method, undici, a wait) rejects with that error: no layer races the deadline by hand.
// Its timer goes when the request ends (`end`), or with the last of its calls still under way
// then: a deadline left ticking would keep its signal alive for QUALYS_DEADLINE_MS after the
// answer (at thousands of cached answers a second, tens of MB).
export class Deadline {
  readonly signal: AbortSignal
  readonly until: number
  private stopped?: RelayError
  private timer?: NodeJS.Timeout
  private running = 0 // calls under way (counted by the top layer)
  private ended = false

  constructor (readonly ms: number) {
    const controller = new AbortController()
    this.timer = setTimeout(() => {
      this.timer = undefined
      controller.abort(qualysError.timeout(ms))
    }, ms).unref()
    this.signal = controller.signal
    setMaxListeners(0, this.signal) // every call of the request waits on it (50 observables: many at once)
    this.until = Date.now() + ms
  }

  get passed (): boolean { return this.signal.aborted }

  // Whether its timer is still set: until it fired, or the request ended with no call under way.
  get ticking (): boolean { return this.timer !== undefined }

  // A call of the request goes down the stack (`enter`) and comes back (`leave`). One still under
  // way when the request ended (the other half of a group whose first half failed) keeps the
  // time it had, and takes the timer with it when it comes back.
  enter (): void { this.running++ }
  leave (): void {
    this.running--
    this.clearIfDone()
  }

  // The request answered: nothing of it waits on this deadline any more.
  end (): void {
    this.ended = true
    this.clearIfDone()
  }

  private clearIfDone (): void {
    if (!this.ended || this.running > 0 || this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
  }

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
