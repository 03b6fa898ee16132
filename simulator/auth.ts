import { randomBytes } from 'node:crypto'
import type http from 'node:http'
import { applyFault } from './faults.js'
import type { SimCall, SimContext } from './types.js'

async function readBody (req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

// A JWT-shaped token, like Qualys' (HS512, `exp` in seconds); its signature is random bytes.
function mintToken (user: string, ttlS: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return `${b64({ alg: 'HS512' })}.${b64({ sub: user, iss: 'qas', exp: now + ttlS, iat: now })}.${randomBytes(24).toString('base64url')}`
}

// POST /auth: form-encoded username, password, token=true; 201 with the token as text.
export async function auth ({ sim, opts, tokens, faults, counterOf }: SimContext, req: http.IncomingMessage, res: http.ServerResponse, call: SimCall) {
  const accounts = opts.accounts ?? { demo: 'demo-password' }
  const form = new URLSearchParams(await readBody(req))
  const user = form.get('username') ?? ''
  call.user = user
  sim.counters.logins++
  counterOf(user).logins++
  if (applyFault(faults.auth.shift(), res, call)) return
  if (user === '' || !form.has('password') || form.get('token') !== 'true') {
    call.status = 400
    return res.writeHead(400, { 'content-type': 'text/plain' }).end('username, password and token=true are required')
  }
  if (accounts[user] !== form.get('password')) {
    call.status = 401
    return res.writeHead(401, { 'content-type': 'application/json' })
      .end(JSON.stringify({ authentication_exceptions: ['InvalidCredentialsException'] }))
  }
  const token = mintToken(user, opts.tokenTtlS ?? 4 * 3600)
  tokens.set(token, user)
  call.status = 201
  res.writeHead(201, { 'content-type': 'text/plain;charset=UTF-8' }).end(token)
}
