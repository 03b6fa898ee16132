// Allow-lists of hosts (JWKS_HOSTS, QUALYS_HOSTS): bare hostnames mean https on the default port;
// exact http(s) origins (e.g. http://127.0.0.1:8443) exist for tests and the demo.

export interface AllowList {
  hostnames: Set<string>
  origins: Set<string>
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i

export function parseAllowList (variable: string, list: string): AllowList {
  const out: AllowList = { hostnames: new Set(), origins: new Set() }
  for (const raw of list.split(',')) {
    const entry = raw.trim()
    if (entry === '') continue
    if (HOSTNAME.test(entry)) {
      out.hostnames.add(entry.toLowerCase())
      continue
    }
    let url: URL | undefined
    try { url = new URL(entry) } catch {}
    const exactOrigin = url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' &&
      url.hash === '' && entry.replace(/\/$/, '') === url.origin
    if (!exactOrigin || url === undefined) {
      throw new Error(`${variable}: "${entry}" is neither a hostname nor an http(s) origin`)
    }
    out.origins.add(url.origin)
  }
  return out
}

// True when a URL points at an allowed host: https on the default port for a hostname entry,
// or exactly an allowed origin. URLs carrying credentials are never allowed.
export function isAllowedUrl (list: AllowList, url: URL): boolean {
  if (url.username !== '' || url.password !== '') return false
  if (list.origins.has(url.origin)) return true
  return url.protocol === 'https:' && url.port === '' && list.hostnames.has(url.hostname)
}
