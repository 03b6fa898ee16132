import { createHash } from 'node:crypto'
import { createTokens, type TokenOptions, type Tokens } from './token.js'

// One credential (API URL, user, password), shared by every request that uses it: who it is
// (keys and labels are hashes, never the user name or password) and its Qualys token.
export interface Account {
  apiUrl: string
  key: string // the hash of API URL, user and password: keys (and seals) the credential's state
  label: string // Qualys' budget is per API URL and user: a short hash of both, for metrics and logs
  secrets: string[] // scrubbed from every upstream text
  tokens: Tokens
}

const sha256 = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex')

// The credential's identity: the hash of API URL, user and password (no password kept as a key).
export const accountKey = (apiUrl: string, target: { user: string, pass: string }): string => sha256(apiUrl, target.user, target.pass)

export function createAccount (apiUrl: string, target: { user: string, pass: string }, opts: Omit<TokenOptions, 'apiUrl' | 'user' | 'pass' | 'key'>): Account {
  const key = accountKey(apiUrl, target)
  return {
    apiUrl,
    key,
    label: sha256(apiUrl, target.user).slice(0, 10),
    secrets: [target.pass],
    tokens: createTokens({ ...opts, apiUrl, user: target.user, pass: target.pass, key })
  }
}
