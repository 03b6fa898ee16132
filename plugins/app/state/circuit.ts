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

export function createCircuit (opts: CircuitOptions): Circuit {
  const tickMs = Math.max(10, Math.min(100, Math.floor(opts.silenceMs / 5)))
  const failures = opts.failures ?? 3
  let up = false
  let connection = false
  let pending = 0
  let silent = 0
  let failed = 0
  let probing = false
  let down = new AbortController()
  down.abort(new RedisDown())
  let last = Date.now()

  const set = (next: boolean) => {
    if (next === up) return
    up = next
    silent = 0
    failed = 0
    if (up) down = new AbortController()
    else down.abort(new RedisDown())
    opts.onChange(up)
  }
  const answered = () => {
    silent = 0
    failed = 0
    if (connection) set(true)
  }
  // A reply error (a wrong type, a script error) is Redis answering: only failures to answer count.
  const failure = (err: unknown) => {
    if ((err as Error | undefined)?.name === 'ReplyError') return answered()
    if (++failed >= failures) set(false)
  }

  const timer = setInterval(() => {
    const now = Date.now()
    const elapsed = Math.min(now - last, 2 * tickMs)
    last = now
    if (up && pending > 0) {
      silent += elapsed
      if (silent >= opts.silenceMs) set(false)
    } else silent = 0
    if (!up && connection && !probing) {
      probing = true
      opts.probe().then(answered, () => {}).finally(() => { probing = false })
    }
  }, tickMs)
  timer.unref()

  return {
    get up () { return up },
    get signal () { return down.signal },
    track (reply: Promise<unknown>) {
      pending++
      reply.then(answered, failure).finally(() => { pending-- })
    },
    run<T> (command: () => Promise<T>): Promise<T> {
      if (!up) return Promise.reject(new RedisDown())
      const signal = down.signal
      const p = command()
      return new Promise<T>((resolve, reject) => {
        const onDown = () => reject(signal.reason)
        signal.addEventListener('abort', onDown, { once: true })
        p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onDown))
      })
    },
    connected () {
      connection = true
      set(true)
    },
    disconnected () {
      connection = false
      set(false)
    },
    stop () { clearInterval(timer) }
  }
}
