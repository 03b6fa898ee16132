import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { boundedCache } from '../../../lib/bounded-cache.js'

// Entries are secrets at rest: AES-256-GCM under a key derived from the credential (HKDF), so a
// Redis dump, or a replica serving another tenant, cannot read them. The key name is the
// cipher's additional data, so an entry cannot be moved under another name.
export function sealer (prefix: string) {
  const keys = boundedCache<string, Buffer>(10_000)
  const keyFor = (credential: string) => {
    let key = keys.get(credential)
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', credential, prefix, 'qualys-ioc-relay store v1', 32))
      keys.set(credential, key)
    }
    return key
  }
  return {
    seal (credential: string, name: string, value: unknown): string {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', keyFor(credential), iv).setAAD(Buffer.from(name))
      const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')
    },
    // undefined when the entry is not this credential's (or was tampered with).
    open (credential: string, name: string, sealed: string): unknown {
      try {
        const raw = Buffer.from(sealed, 'base64')
        const decipher = createDecipheriv('aes-256-gcm', keyFor(credential), raw.subarray(0, 12)).setAAD(Buffer.from(name))
        decipher.setAuthTag(raw.subarray(12, 28))
        return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'))
      } catch {
        return undefined
      }
    }
  }
}
