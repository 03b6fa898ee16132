import { createVerifier } from 'fast-jwt'
import { LRUCache } from 'lru-cache'
import { authError } from '../../../lib/errors.js'
import type { AllowList } from '../../../lib/hosts.js'
import { jwksOrigin, JwksUnavailableError, type createJwksClient } from './jwks.js'
import { verifyFailure } from './claims.js'

export interface Decoded { header: Record<string, unknown>, payload: Record<string, unknown> }
export interface JwtLike {
  decode: (token: string) => unknown
  verify: (token: string) => unknown
}

// RS256 (configuration tokens): jwks_host and kid present, the host allowed, the key from its
// JWKS, then the signature (SPEC §2 order). One fast-jwt verifier per JWKS key, built once.
function rs256 (allowList: AllowList, jwks: ReturnType<typeof createJwksClient>) {
  const verifiers = new LRUCache<string, (token: string) => unknown>({ max: 100 })
  const verifierFor = (key: string) => {
    let verify = verifiers.get(key)
    if (verify === undefined) {
      verify = createVerifier({ key, algorithms: ['RS256'] })
      verifiers.set(key, verify)
    }
    return verify
  }
  return async function verifyRs256 (token: string, { header, payload }: Decoded) {
    if (allowList.hostnames.size === 0 && allowList.origins.size === 0) throw authError('jwksWrong')
    const host = payload.jwks_host
    if (typeof host !== 'string' || host === '' || typeof header.kid !== 'string') throw authError('jwksMissing')
    const origin = jwksOrigin(allowList, host)
    if (origin === undefined) throw authError('jwksWrong')
    let key: string | undefined
    try {
      key = await jwks.getKey(origin, header.kid)
    } catch (err) {
      if (err instanceof JwksUnavailableError) throw authError('jwksWrong')
      throw err
    }
    if (key === undefined) throw authError('kid')
    try {
      verifierFor(key)(token)
    } catch (err) {
      throw verifyFailure(err, 'rsSignature')
    }
  }
}

// Header, structure, then the signature and exp/nbf of the token's own mode (SPEC §2 order).
export function createTokenVerifier (opts: { jwt: JwtLike, secretKey?: string, allowList: AllowList, jwks: ReturnType<typeof createJwksClient> }) {
  const verifyRs256 = rs256(opts.allowList, opts.jwks)
  return async function verify (token: string): Promise<Decoded> {
    let decoded: Decoded
    try {
      decoded = opts.jwt.decode(token) as Decoded
    } catch {
      throw authError('structure')
    }
    const { header, payload } = decoded ?? {}
    if (header === null || typeof header !== 'object' || payload === null ||
      typeof payload !== 'object' || Array.isArray(payload)) {
      throw authError('structure')
    }
    if (header.alg === 'HS256') {
      if (opts.secretKey === undefined) throw authError('noSecretKey')
      try {
        opts.jwt.verify(token)
      } catch (err) {
        throw verifyFailure(err, 'hsSignature')
      }
    } else if (header.alg === 'RS256') {
      await verifyRs256(token, decoded)
    } else {
      throw authError('structure')
    }
    return decoded
  }
}
