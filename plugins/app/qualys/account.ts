import { createHash } from 'node:crypto'

// One credential (API URL, user, password), shared by every request that uses it: who it is
// (keys and labels are hashes, never the user name or password). Data only: its token is kept
// by the auth layer's token store, keyed by `key`.
export interface Account {
  apiUrl: string
  key: string // the hash of API URL, user and password: keys (and seals) the credential's state
  label: string // Qualys' budget is per API URL and user: a short hash of both, for metrics and logs
  user: string // user and password: for the login (POST /auth) only
  pass: string
  secrets: string[] // scrubbed from every upstream text (the password)
}

const sha256 = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex')

// The credential's identity: the hash of API URL, user and password (no password kept as a key).
export const accountKey = (apiUrl: string, target: { user: string, pass: string }): string => sha256(apiUrl, target.user, target.pass)

export function createAccount (apiUrl: string, target: { user: string, pass: string }): Account {
  return {
    apiUrl,
    key: accountKey(apiUrl, target),
    label: sha256(apiUrl, target.user).slice(0, 10),
    user: target.user,
    pass: target.pass,
    secrets: [target.pass]
  }
}
