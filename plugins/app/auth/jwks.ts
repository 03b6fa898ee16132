import { createPublicKey } from 'node:crypto'
import { request, type Dispatcher } from 'undici'
import type { AllowList } from '../../../lib/hosts.js'

export class JwksUnavailableError extends Error {}

interface HostKeys {
  keys: Map<string, string>
  fetchedAt: number
}

const TIMEOUT_MS = 5000
const REFETCH_AFTER_MS = 60_000 // an unknown kid refetches at most this often per host
const MAX_AGE_MS = 3_600_000 // keys are refreshed on use after this long

// Resolves the `jwks_host` claim to a fetch origin, only through the allow-list: a claim that is
// not exactly an allowed hostname, or the host:port of an allowed origin, has no origin at all.
export function jwksOrigin (allowList: AllowList, claim: string): string | undefined {
  if (allowList.hostnames.has(claim)) return `https://${claim}`
  for (const origin of allowList.origins) {
    if (new URL(origin).host === claim) return origin
  }
  return undefined
}

// JWKS fetched per allowed host (through the relay's egress dispatcher) and cached; own code rather than get-jwks because an unknown kid
// must refetch at most once per host per minute (get-jwks refetches on every miss).
export function createJwksClient (dispatcher?: Dispatcher) {
  const cache = new Map<string, HostKeys>()
  const pending = new Map<string, Promise<HostKeys>>()

  async function download (origin: string): Promise<HostKeys> {
    let keys: Map<string, string>
    try {
      const res = await request(`${origin}/.well-known/jwks`, {
        dispatcher,
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: { accept: 'application/json' }
      })
      const text = await res.body.text()
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
      const body = JSON.parse(text) as { keys?: unknown }
      if (!Array.isArray(body.keys)) throw new Error('no keys')
      keys = new Map()
      for (const jwk of body.keys as Array<Record<string, unknown>>) {
        if (typeof jwk?.kid !== 'string' || jwk.kty !== 'RSA') continue
        try {
          const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
          keys.set(jwk.kid, pem.toString())
        } catch {}
      }
    } catch (err) {
      throw new JwksUnavailableError(`JWKS of ${origin} unavailable: ${(err as Error).message}`)
    }
    const entry = { keys, fetchedAt: Date.now() }
    cache.set(origin, entry)
    return entry
  }

  function refresh (origin: string): Promise<HostKeys> {
    let p = pending.get(origin)
    if (p === undefined) {
      p = download(origin).finally(() => pending.delete(origin))
      pending.set(origin, p)
    }
    return p
  }

  return {
    // The PEM public key for kid, or undefined when the host's JWKS does not have it.
    async getKey (origin: string, kid: string): Promise<string | undefined> {
      let entry = cache.get(origin)
      if (entry === undefined || Date.now() - entry.fetchedAt >= MAX_AGE_MS) entry = await refresh(origin)
      const key = entry.keys.get(kid)
      if (key !== undefined || Date.now() - entry.fetchedAt < REFETCH_AFTER_MS) return key
      return (await refresh(origin)).keys.get(kid)
    }
  }
}
