import type { SupportedType } from '../../schemas/observables.js'

// The event JSON fields each QQL search token searches (SPEC §4): an event belongs to an
// observable when one of these fields equals the value, case-insensitively.
export const TOKEN_FIELDS = {
  'file.hash.md5': ['file.md5', 'process.processFile.md5'],
  'file.hash.sha256': ['file.sha256', 'process.processFile.sha256'],
  'file.name': ['file.fileName', 'process.processName'],
  'file.fullPath': ['file.fullPath', 'process.fullPath'],
  'network.local.address.ip': ['network.localIP', 'network.localAddress.ip'],
  'network.remote.address.ip': ['network.remoteIP', 'network.remoteAddress.ip'],
  'network.remote.address.fqdn': ['network.remoteDns', 'network.remoteAddress.fqdn'],
  'handle.name': ['handle.name']
} as const

export type Token = keyof typeof TOKEN_FIELDS

// The same fields as key paths, split once (read for every event of a batched answer).
export const TOKEN_PATHS = Object.fromEntries(Object.entries(TOKEN_FIELDS).map(([token, fields]) =>
  [token, fields.map((field) => field.split('.'))])) as Record<Token, string[][]>

interface Query {
  name: string // in texts: "Search for this <name>"
  tokens: readonly Token[]
  filter: (v: string) => string
}

const query = (name: string, ...tokens: Token[]): Query => ({
  name,
  tokens,
  filter: (v) => tokens.map((token) => `${token}: "${v}"`).join(' or ')
})

// The QQL filter and the human name of each supported observable type (SPEC §4).
export const QUERIES: Record<SupportedType, Query> = {
  md5: query('MD5', 'file.hash.md5'),
  sha256: query('SHA256', 'file.hash.sha256'),
  file_name: query('file name', 'file.name'),
  file_path: query('file path', 'file.fullPath'),
  ip: query('IP', 'network.local.address.ip', 'network.remote.address.ip'),
  ipv6: query('IPv6', 'network.local.address.ip', 'network.remote.address.ip'),
  domain: query('domain', 'network.remote.address.fqdn'),
  mutex: query('mutex', 'handle.name')
}

// Every events call sorts newest first, so which events survive the per-observable limit does
// not depend on how calls were grouped (Qualys' own Splunk add-on sorts on event.datetime).
export const SORT = '[{"event.datetime":"desc"}]'

// A value with `"` or a backtick cannot be quoted safely: it could change the query.
export const isQuotable = (value: string) => !/["`]/.test(value)

// Percent-encodes everything but A-Za-z0-9_.-~ (and `/` when keepSlash), UTF-8 for the rest.
export function percentEncode (text: string, keepSlash = false): string {
  const encoded = encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded
}

// The Qualys hunting page running a search: the pivot link of refer and of the tiles.
export function huntingUrl (platform: string, filter: string): string {
  return `${platform.replace(/\/+$/, '')}/ioc/#/hunting?search=${percentEncode(filter, true)}`
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
