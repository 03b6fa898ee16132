import type { Credentials, Lookup } from '../schemas/qualys.js'
import { ERRORS } from '../schemas/error-catalogue.js'
import { relayError, type RelayError } from './errors.js'
import { derivePlatformUrl } from './qualys/qql.js'
import { uniqueSupported, type Observable } from '../schemas/observables.js'

// The supported observables of a request, each once, capped at `max` with a warning.
export function lookups (body: Observable[], max: number): { items: Lookup[], warnings: RelayError[] } {
  const items = uniqueSupported(body)
  if (items.length <= max) return { items, warnings: [] }
  return {
    items: items.slice(0, max),
    warnings: [relayError(ERRORS.tooManyObservables, { sent: items.length, max })]
  }
}

// The Qualys UI for links: it follows the API URL in use (the token's own, else the environment's).
export function platformUrl (creds: Credentials, env: { API_URL?: string, PLATFORM_URL?: string }): string | undefined {
  return creds.platformUrl ?? (creds.apiUrl !== undefined ? derivePlatformUrl(creds.apiUrl) : undefined) ??
    env.PLATFORM_URL ?? derivePlatformUrl(env.API_URL)
}
