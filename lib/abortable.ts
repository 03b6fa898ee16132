// Settles as `p` does, or rejects as soon as `signal` aborts (with `reason()`, by default the
// signal's own reason), whatever `p` still does: the one way the relay stops waiting for
// something shared that may outlive its request (a login, another request's call, a Redis reply).
export function abortable<T> (p: Promise<T>, signal: AbortSignal, reason: () => unknown = () => signal.reason): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason())
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

// `p`, or its caller's abort (above) when a signal is given.
export const within = <T>(signal: AbortSignal | undefined, p: Promise<T>): Promise<T> =>
  signal === undefined ? p : abortable(p, signal)

// What an operation done at once (whatever the signal says) answers its caller: its result, or
// the caller's abort.
export function answered<T> (signal: AbortSignal | undefined, value: T): T {
  signal?.throwIfAborted()
  return value
}
