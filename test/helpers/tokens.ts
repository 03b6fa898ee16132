import { createHmac } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { registerSecret, SECRET_KEY } from './secrets.js'

// HS256 tokens signed by the test itself with fast-jwt, not through the relay's code.
export function hsToken (payload: Record<string, unknown>, key = SECRET_KEY): string {
  const token = createSigner({ key, algorithm: 'HS256', noTimestamp: true })(payload)
  registerSecret(payload.pass)
  registerSecret(token)
  return token
}

export const DEMO = { user: 'demo', pass: 'demo-password' }
export const EVE = { user: 'eve', pass: 'eve-password-123' } // a second credential

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

// A hand-made HS256 token, for claims fast-jwt's signer refuses to produce (e.g. exp: "tomorrow").
export function rawHsToken (payload: unknown, header: unknown = { alg: 'HS256', typ: 'JWT' }, key = SECRET_KEY): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const input = `${b64(header)}.${b64(payload)}`
  const token = `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
  registerSecret(token)
  return token
}
