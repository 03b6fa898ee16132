import type { FastifyRequest } from 'fastify'
import { authError } from '../../../lib/errors.js'

// The checks around a token's claims (their messages: AUTH_REASON in schemas/error-catalogue.ts).

export const MAX_TOKEN_LENGTH = 8192

// fast-jwt error codes → the SPEC's messages; anything else means the token is malformed.
export function verifyFailure (err: unknown, signatureReason: 'rsSignature' | 'hsSignature') {
  const code = (err as { code?: string }).code
  if (code === 'FAST_JWT_INVALID_SIGNATURE') return authError(signatureReason)
  if (code === 'FAST_JWT_EXPIRED') return authError('expired')
  if (code === 'FAST_JWT_INACTIVE') return authError('notYetValid')
  return authError('structure')
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
