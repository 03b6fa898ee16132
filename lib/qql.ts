import type { SupportedType } from '../schemas/observables.js'

const ip = (v: string) => `network.local.address.ip: "${v}" or network.remote.address.ip: "${v}"`

// The QQL filter and the human name of each supported observable type (SPEC §4).
export const QUERIES: Record<SupportedType, { name: string, filter: (v: string) => string }> = {
  md5: { name: 'MD5', filter: (v) => `file.hash.md5: "${v}"` },
  sha256: { name: 'SHA256', filter: (v) => `file.hash.sha256: "${v}"` },
  file_name: { name: 'file name', filter: (v) => `file.name: "${v}"` },
  file_path: { name: 'file path', filter: (v) => `file.fullPath: "${v}"` },
  ip: { name: 'IP', filter: ip },
  ipv6: { name: 'IPv6', filter: ip },
  domain: { name: 'domain', filter: (v) => `network.remote.address.fqdn: "${v}"` },
  mutex: { name: 'mutex', filter: (v) => `handle.name: "${v}"` }
}

// A value with `"` or a backtick cannot be quoted safely: it could change the query.
export const isQuotable = (value: string) => !/["`]/.test(value)

// Percent-encodes everything but A-Za-z0-9_.-~ (and `/` when keepSlash), UTF-8 for the rest.
export function percentEncode (text: string, keepSlash = false): string {
  const encoded = encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded
}

// The Qualys UI for pivot links, derived from the API gateway URL when not configured.
export function derivePlatformUrl (apiUrl: string | undefined): string | undefined {
  if (apiUrl === undefined) return undefined
  let url: URL
  try { url = new URL(apiUrl) } catch { return undefined }
  const host = url.hostname
  if (host === 'gateway.qg1.apps.qualys.com') url.hostname = 'qualysguard.qualys.com'
  else if (host === 'gateway.qg1.apps.qualys.eu') url.hostname = 'qualysguard.qualys.eu'
  else if (host.startsWith('gateway.')) url.hostname = `qualysguard.${host.slice('gateway.'.length)}`
  else return undefined
  return url.origin
}
