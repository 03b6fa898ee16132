import { Agent, EnvHttpProxyAgent, Pool, type Dispatcher } from 'undici'

// The relay's way out (Qualys, its logins, the JWKS hosts, the tenant check): direct, or through
// the egress proxy that the standard variables name, as curl and Node read them: HTTPS_PROXY for
// https URLs, HTTP_PROXY for http ones (and for https ones when HTTPS_PROXY is unset), NO_PROXY the
// hosts that go direct; each lower case first, an empty value as unset. Redis is never proxied.

export interface EgressEnv {
  HTTPS_PROXY?: string
  HTTP_PROXY?: string
  NO_PROXY?: string
  https_proxy?: string
  http_proxy?: string
  no_proxy?: string
}

export interface Proxy { variable: string, url: string, shown: string, host: string }

export interface Egress {
  https?: Proxy
  http?: Proxy
  noProxy: string
  // The proxy an outbound URL goes through, or undefined when it goes direct.
  proxyFor: (url: string) => Proxy | undefined
  // One line for the start-up log: no password.
  describe: () => string
}

export class EgressConfigError extends Error {}

// A proxy URL with its password replaced (user names are shown: they help, and are no secret).
export function redactUrl (raw: string): string {
  try {
    const url = new URL(raw)
    if (url.password !== '') url.password = '***'
    return url.href.replace(/\/$/, '')
  } catch {
    return '(not a URL)'
  }
}

function pick (env: EgressEnv, name: 'HTTPS_PROXY' | 'HTTP_PROXY' | 'NO_PROXY'): { variable: string, value: string } | undefined {
  const lower = name.toLowerCase() as keyof EgressEnv
  for (const variable of [lower, name] as const) {
    const value = env[variable]?.trim()
    if (value !== undefined && value !== '') return { variable, value }
  }
  return undefined
}

function parseProxy ({ variable, value }: { variable: string, value: string }): Proxy {
  let url: URL | undefined
  try { url = new URL(value) } catch {}
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' ||
    (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    // Never the value as it is: it may carry the proxy's password.
    throw new EgressConfigError(`env/${variable} must be a proxy URL such as http://proxy.example.com:3128 (with user:password@ for a proxy that asks), got ${redactUrl(value)}`)
  }
  return { variable, url: url.href.replace(/\/$/, ''), shown: redactUrl(value), host: url.host }
}

interface NoProxyEntry { host: string, port: number, wildcard: boolean }
const DEFAULT_PORT: Record<string, number> = { 'http:': 80, 'https:': 443 }

// NO_PROXY as undici's EnvHttpProxyAgent applies it (the dispatcher below decides the route; this
// reading only names the proxy in errors and /health): comma or space separated hostnames (also
// matching their subdomains), `.domain` suffixes, `*.domain` (subdomains only), host:port, IPs,
// [IPv6]:port and `*` for everything.
function parseNoProxy (value: string): NoProxyEntry[] {
  return value.split(/[,\s]/).filter((e) => e !== '').map((entry) => {
    const v6 = /^\[(.+)\]:(\d+)$/.exec(entry)
    const bare = entry.replace(/^\[(.+)\]$/, '$1')
    const hostPort = (bare.match(/:/g) ?? []).length === 1 ? /^(.+):(\d+)$/.exec(bare) : null
    const host = v6?.[1] ?? hostPort?.[1] ?? bare
    const port = Number(v6?.[2] ?? hostPort?.[2] ?? 0)
    return { host: host.replace(/^\*?\./, '').replace(/^(.+)\.$/, '$1').toLowerCase(), port, wildcard: entry.startsWith('*') }
  })
}

function bypasses (entries: NoProxyEntry[], url: URL): boolean {
  const host = url.hostname.replace(/^\[(.+)\]$/, '$1').replace(/(.)\.$/, '$1').toLowerCase()
  const port = Number(url.port) || DEFAULT_PORT[url.protocol] || 0
  return entries.some((e) => (e.port === 0 || e.port === port) &&
    (e.host === '*' || (!e.wildcard && host === e.host) || host.endsWith(`.${e.host}`)))
}

// The variables read once, at start-up: a malformed proxy URL refuses to start.
export function readEgress (env: EgressEnv): Egress {
  const httpsVar = pick(env, 'HTTPS_PROXY')
  const httpVar = pick(env, 'HTTP_PROXY')
  const http = httpVar === undefined ? undefined : parseProxy(httpVar)
  const https = httpsVar === undefined ? http : parseProxy(httpsVar)
  const noProxy = pick(env, 'NO_PROXY')?.value ?? ''
  const entries = parseNoProxy(noProxy)
  return {
    https,
    http,
    noProxy,
    proxyFor (raw) {
      const url = new URL(raw)
      const proxy = url.protocol === 'https:' ? https : http
      return proxy === undefined || bypasses(entries, url) ? undefined : proxy
    },
    describe () {
      if (https === undefined && http === undefined) return 'direct (no HTTPS_PROXY or HTTP_PROXY)'
      return [`https through ${https?.shown ?? 'nothing (direct)'}`, `http through ${http?.shown ?? 'nothing (direct)'}`,
        `direct for NO_PROXY=${noProxy === '' ? '(empty)' : noProxy}`].join(', ')
    }
  }
}

export interface DispatcherOptions { connectTimeoutMs: number, connections: number, keepAliveTimeoutMs: number }

// One dispatcher for every outbound request: undici's Agent when no proxy is set (nothing else on
// the hot path), else its EnvHttpProxyAgent with the values read above (NO_PROXY decided per
// request, the same pools and timeouts per origin). A proxy that accepts the connection but
// never answers CONNECT fails like one that refuses it, after the connect timeout.
export function createDispatcher (egress: Egress, opts: DispatcherOptions): Dispatcher {
  const agent = { connect: { timeout: opts.connectTimeoutMs }, keepAliveTimeout: opts.keepAliveTimeoutMs, connections: opts.connections }
  if (egress.https === undefined && egress.http === undefined) return new Agent(agent)
  return new EnvHttpProxyAgent({
    ...agent,
    httpsProxy: egress.https?.url ?? '',
    httpProxy: egress.http?.url ?? '',
    noProxy: egress.noProxy,
    connectTimeout: opts.connectTimeoutMs,
    clientFactory: (origin: URL, options: object) => new Pool(origin, { ...options, headersTimeout: opts.connectTimeoutMs })
  } as ConstructorParameters<typeof EnvHttpProxyAgent>[0])
}
