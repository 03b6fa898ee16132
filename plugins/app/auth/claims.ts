import type { FastifyRequest } from 'fastify'
import { authError } from '../../../lib/errors.js'

// The SPEC §2 messages and the checks around a token's claims.

export const MAX_TOKEN_LENGTH = 8192

export const MSG = {
  structure: 'Wrong JWT structure',
  jwksMissing: 'jwks_host is missing in JWT payload. Make sure custom_jwks_host field is present in module_type',
  jwksWrong: 'Wrong jwks_host in JWT payload. Make sure domain follows the visibility.<region>.cisco.com structure',
  kid: 'kid from JWT header not found in API response',
  rsSignature: 'Failed to decode JWT with provided key. Make sure domain in custom_jwks_host corresponds to your SecureX instance region.',
  hsSignature: 'Failed to decode JWT with provided key',
  audience: 'Wrong configuration-token-audience'
}

// fast-jwt error codes → the SPEC's messages; anything else means the token is malformed.
export function verifyFailure (err: unknown, signatureMessage: string) {
  const code = (err as { code?: string }).code
  if (code === 'FAST_JWT_INVALID_SIGNATURE') return authError(signatureMessage)
  if (code === 'FAST_JWT_EXPIRED') return authError('Token has expired')
  if (code === 'FAST_JWT_INACTIVE') return authError('Token is not yet valid')
  return authError(MSG.structure)
}

const first = (value: string | string[] | undefined) =>
  (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim()

// The URL the token must be addressed to: PUBLIC_URL, else this request's own root.
export function requestRoot (request: FastifyRequest, trustProxy: boolean): string {
  const proto = (trustProxy ? first(request.headers['x-forwarded-proto']) : undefined) ?? request.protocol
  const host = (trustProxy ? first(request.headers['x-forwarded-host']) : undefined) ?? request.headers.host ?? ''
  return `${proto}://${host}`
}

export function limitClaim (value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN
  return Number.isInteger(n) && n > 0 ? n : fallback
}

export const optionalString = (value: unknown) => typeof value === 'string' && value !== '' ? value : undefined
