import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Dispatcher } from 'undici'
import { boundedCache } from '../../../lib/bounded-cache.js'
import { authError } from '../../../lib/errors.js'
import { parseAllowList } from '../../../lib/hosts.js'
import { createJwksClient } from './jwks.js'
import { limitClaim, MAX_TOKEN_LENGTH, optionalString, requestRoot } from './claims.js'
import { createTokenVerifier, type Decoded, type JwtLike } from './verify.js'

import type { Credentials } from '../../../schemas/qualys.js'

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<Credentials>
  }
  interface FastifyRequest {
    credentials: Credentials | null
  }
}

// A request's credentials, set by the routes' onRequest hook; a route without it is a wiring bug,
// not a client error.
export function credentials (request: FastifyRequest): Credentials {
  if (request.credentials === null) throw new Error('route reached without authentication')
  return request.credentials
}

export interface AuthOptions {
  jwt: JwtLike
  secretKey?: string
  jwksHosts: string
  publicUrl?: string
  trustProxy: boolean
  defaultLimit: number
  dispatcher?: Dispatcher // the JWKS fetches' way out (the egress plugin's)
}

export function createAuthenticator (opts: AuthOptions) {
  const allowList = parseAllowList('JWKS_HOSTS', opts.jwksHosts)
  const verify = createTokenVerifier({ jwt: opts.jwt, secretKey: opts.secretKey, allowList, jwks: createJwksClient(opts.dispatcher) })
  const publicUrl = opts.publicUrl?.replace(/\/+$/, '')

  const verified = boundedCache<string, Decoded & { until: number }>(1000)

  return async function authenticate (request: FastifyRequest): Promise<Credentials> {
    const header = request.headers.authorization
    if (header === undefined) throw authError('missingHeader')
    const parts = header.split(' ')
    if (parts.length !== 2 || parts[0]?.toLowerCase() !== 'bearer' || parts[1] === '') {
      throw authError('wrongType')
    }
    const token = parts[1] as string
    // XDR's tokens are a few KB; a huge one is refused before any decoding work.
    if (token.length > MAX_TOKEN_LENGTH) throw authError('structure')

    // XDR sends the same token with many requests: a verified token is remembered (by its exact
    // text) until its exp, and at most 10 minutes so that a JWKS key rotation takes effect.
    const now = Date.now()
    let entry = verified.get(token)
    if (entry === undefined || now >= entry.until) {
      const decoded = await verify(token)
      const exp = decoded.payload.exp
      entry = { ...decoded, until: Math.min(typeof exp === 'number' ? exp * 1000 : Infinity, now + 600_000) }
      verified.set(token, entry)
    }
    const { header: jwtHeader, payload } = entry

    const aud = payload.aud
    if (aud !== undefined || jwtHeader.alg === 'RS256') {
      const expected = publicUrl ?? requestRoot(request, opts.trustProxy)
      const audiences = Array.isArray(aud) ? aud : [aud]
      if (!audiences.some((a) => typeof a === 'string' && a.replace(/\/+$/, '') === expected)) {
        throw authError('audience')
      }
    }

    const { user, pass } = payload
    if (typeof user !== 'string' || user === '' || typeof pass !== 'string' || pass === '') {
      throw authError('payload')
    }
    return {
      user,
      pass,
      apiUrl: optionalString(payload.API_URL),
      platformUrl: optionalString(payload.PLATFORM_URL),
      limit: limitClaim(payload.CTR_ENTITIES_LIMIT, opts.defaultLimit)
    }
  }
}

// JWT authentication in both modes (SPEC §2), as a decorator the routes' autohook calls.
export default fp(async function authPlugin (fastify: FastifyInstance) {
  const { config } = fastify
  fastify.decorate('authenticate', createAuthenticator({
    jwt: fastify.jwt as unknown as JwtLike,
    secretKey: config.SECRET_KEY,
    jwksHosts: config.JWKS_HOSTS,
    publicUrl: config.PUBLIC_URL,
    trustProxy: config.TRUST_PROXY,
    defaultLimit: config.CTR_ENTITIES_LIMIT,
    dispatcher: fastify.egress.dispatcher
  }))
  fastify.decorateRequest('credentials', null)
}, { name: 'auth', dependencies: ['env', 'egress', 'jwt'] })
