import type { Dispatcher } from 'undici'
import { qualysError } from '../../../lib/errors.js'

export interface Answer { status: number, headers: Record<string, string | string[] | undefined>, text: string }

const MAX_BODY = 64 * 1024 * 1024

// A batched query refused for its size or syntax (400, 413, 414, 431, often an HTML page from a
// front end): a batch must never read as "no events"; the caller splits it.
export class BatchRejected extends Error {
  constructor (readonly status: number) {
    super(`batch refused with ${status}`)
    this.name = 'BatchRejected'
  }
}
export const RETRIED = new Set([409, 429, 503])

export function header (headers: Answer['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

// Whether Qualys said how long to wait (X-RateLimit-ToWait-Sec or Retry-After).
export function toldWait (headers: Answer['headers']): boolean {
  return (header(headers, 'x-ratelimit-towait-sec') ?? '') !== '' || (header(headers, 'retry-after') ?? '') !== ''
}

// How long Qualys asks us to wait: X-RateLimit-ToWait-Sec, else Retry-After, else backoff + jitter.
export function retryDelay (headers: Answer['headers'], attempt: number, random = Math.random): number {
  const toWait = Number(header(headers, 'x-ratelimit-towait-sec'))
  if (Number.isFinite(toWait) && toWait >= 0 && header(headers, 'x-ratelimit-towait-sec') !== '') return toWait * 1000
  const retryAfter = header(headers, 'retry-after')
  if (retryAfter !== undefined && retryAfter !== '') {
    const seconds = Number(retryAfter)
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
    const date = Date.parse(retryAfter)
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now())
  }
  const base = Math.min(2000, 100 * 2 ** attempt)
  return Math.round(base / 2 + random() * base / 2)
}

export async function readText (body: Dispatcher.ResponseData['body']): Promise<string> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of body) {
    size += chunk.length
    if (size > MAX_BODY) {
      body.destroy()
      throw qualysError.invalidBody('the answer is larger than the relay accepts')
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
