import { generateKeyPairSync } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSigner } from 'fast-jwt'
import { registerSecret } from './secrets.js'

interface Tap { teardown: (fn: () => unknown) => void }

export interface JwksServer {
  origin: string
  host: string // what a token's jwks_host claim says: 127.0.0.1:<port>
  requests: number
  kid: string
  privateKey: string
  publicKey: string
  sign: (payload: Record<string, unknown>, opts?: { kid?: string, key?: string }) => string
  close: () => Promise<void>
}

// A real local JWKS endpoint (GET /.well-known/jwks) with one RSA key, counting its requests;
// `delayMs` makes it slow, so that concurrent fetches overlap.
export async function startJwks (t: Tap, delayMs = 0): Promise<JwksServer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = 'test-key-1'
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }
  const server = http.createServer((req, res) => {
    jwks.requests++
    if (req.url !== '/.well-known/jwks') return res.writeHead(404).end()
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })), delayMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const jwks: JwksServer = {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests: 0,
    kid,
    privateKey: privatePem,
    publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (payload, opts = {}) => {
      const token = createSigner({ key: opts.key ?? privatePem, algorithm: 'RS256', kid: opts.kid ?? kid, noTimestamp: true })(payload)
      registerSecret(payload.pass)
      registerSecret(token)
      return token
    },
    close: () => new Promise((resolve) => server.close(() => resolve()))
  }
  t.teardown(() => jwks.close())
  return jwks
}
