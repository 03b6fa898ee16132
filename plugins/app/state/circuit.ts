import { setMaxListeners } from 'node:events'
import { abortable } from '../../../lib/abortable.js'

// Whether Redis is up, as SPEC §10 means it: down after errors, a dropped connection, or no answer
// at all for `silenceMs` while commands wait; up again on the first answer. One slow reply while
// Redis answers is not "down": callers then wait (their own deadline bounds them), they never
// go around a lock or a slot.
//
// Event-loop lag is not silence: a replica whose loop was blocked for seconds reads the replies
// waiting in its socket only after its timers ran, so each tick adds at most two intervals of
// silence, and only responsive time counts.

export class RedisDown extends Error {
  constructor () {
    super('Redis is down')
    this.name = 'RedisDown'
  }
}

export interface CircuitOptions {
  silenceMs: number
  failures?: number // consecutive failed commands that mean "down" (default 3)
  probe: () => Promise<unknown> // a cheap command (PING), sent while down and connected
  onChange: (up: boolean) => void
}

export interface Circuit {
  readonly up: boolean
  readonly signal: AbortSignal // aborted when Redis goes down; a new one after it came back
  track: (reply: Promise<unknown>) => void // every command sent: its reply (or failure) is news
  run: <T>(command: () => Promise<T>) => Promise<T> // rejects with RedisDown while down, or once it goes down
  connected: () => void
  disconnected: () => void
  stop: () => void
}

// Every command and lock waiting on Redis listens to the same signal: no listener limit.
function waiters (): AbortController {
  const controller = new AbortController()
  setMaxListeners(0, controller.signal)
  return controller
}

class RedisCircuit implements Circuit {
  private isUp = false
  private connection = false
  private pending = 0
  private silent = 0
  private failed = 0
  private probing = false
  private down = waiters()
  private last = Date.now()
  private readonly tickMs: number
  private readonly timer: NodeJS.Timeout

  constructor (private readonly opts: CircuitOptions) {
    this.down.abort(new RedisDown())
    this.tickMs = Math.max(10, Math.min(100, Math.floor(opts.silenceMs / 5)))
    this.timer = setInterval(() => this.tick(), this.tickMs)
    this.timer.unref()
  }

  get up () { return this.isUp }
  get signal () { return this.down.signal }

  private set (next: boolean) {
    if (next === this.isUp) return
    this.isUp = next
    this.silent = 0
    this.failed = 0
    if (next) this.down = waiters()
    else this.down.abort(new RedisDown())
    this.opts.onChange(next)
  }

  private answered () {
    this.silent = 0
    this.failed = 0
    if (this.connection) this.set(true)
  }

  // A reply error (a wrong type, a script error) is Redis answering: only failures to answer count.
  private failure (err: unknown) {
    if ((err as Error | undefined)?.name === 'ReplyError') return this.answered()
    if (++this.failed >= (this.opts.failures ?? 3)) this.set(false)
  }

  private tick () {
    const now = Date.now()
    const elapsed = Math.min(now - this.last, 2 * this.tickMs)
    this.last = now
    if (this.isUp && this.pending > 0) {
      this.silent += elapsed
      if (this.silent >= this.opts.silenceMs) this.set(false)
    } else this.silent = 0
    if (!this.isUp && this.connection && !this.probing) {
      this.probing = true
      this.opts.probe().then(() => this.answered(), () => {}).finally(() => { this.probing = false })
    }
  }

  track (reply: Promise<unknown>) {
    this.pending++
    reply.then(() => this.answered(), (err: unknown) => this.failure(err)).finally(() => { this.pending-- })
  }

  run<T> (command: () => Promise<T>): Promise<T> {
    if (!this.isUp) return Promise.reject(new RedisDown())
    return abortable(command(), this.down.signal)
  }

  connected () {
    this.connection = true
    this.set(true)
  }

  disconnected () {
    this.connection = false
    this.set(false)
  }

  stop () { clearInterval(this.timer) }
}

export const createCircuit = (opts: CircuitOptions): Circuit => new RedisCircuit(opts)
