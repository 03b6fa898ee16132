import { createDecipheriv, createHash, hkdfSync } from 'node:crypto'
import t from 'tap'
import { redisKey } from '../../plugins/app/state/keys.js'
import { sealer } from '../../plugins/app/state/seal.js'

// What the Redis state keeps at rest, without a Redis: the sealing of values (state/seal.ts) and
// the key layout (state/keys.ts). The Redis suite checks the same against a real redis-server.

const CREDENTIAL = 'https://gateway.qg2.apps.qualys.com\u0000alice\u0000s3cret-Pa55'

t.test('a sealed value opens for its credential and its name only', async (t) => {
  const seal = sealer('qioc:')
  const value = { token: 'eyJhbGciOi.secret', events: [1, 2, 3] }
  const sealed = seal.seal(CREDENTIAL, 'store:abc', value)
  t.same(seal.open(CREDENTIAL, 'store:abc', sealed), value, 'the same credential and name: the value')
  t.equal(seal.open('https://gateway.qg2.apps.qualys.com\u0000bob\u0000other', 'store:abc', sealed), undefined, 'another credential: nothing')
  t.equal(seal.open(CREDENTIAL, 'store:abd', sealed), undefined, 'moved under another name: nothing')
  t.equal(sealer('other:').open(CREDENTIAL, 'store:abc', sealed), undefined, 'another REDIS_PREFIX (the key derivation\'s salt): nothing')

  const raw = Buffer.from(sealed, 'base64')
  for (const at of [0, 12, 28, raw.length - 1]) { // the IV, the tag, the body's first and last byte
    const tampered = Buffer.from(raw)
    tampered[at] = (tampered[at] as number) ^ 1
    t.equal(seal.open(CREDENTIAL, 'store:abc', tampered.toString('base64')), undefined, `byte ${at} changed: nothing`)
  }
  t.equal(seal.open(CREDENTIAL, 'store:abc', 'not base64 at all!'), undefined, 'garbage: nothing, no throw')
  t.equal(seal.open(CREDENTIAL, 'store:abc', ''), undefined, 'empty: nothing')
})

t.test('at rest: AES-256-GCM under an HKDF key, a fresh IV each time, no clear text', async (t) => {
  const seal = sealer('qioc:')
  const a = seal.seal(CREDENTIAL, 'store:x', 'the same value')
  const b = seal.seal(CREDENTIAL, 'store:x', 'the same value')
  t.not(a, b, 'sealing twice gives two ciphertexts (a random IV)')
  const raw = Buffer.from(a, 'base64')
  t.equal(raw.length, 12 + 16 + Buffer.byteLength(JSON.stringify('the same value')), 'IV (12) + tag (16) + as long as the JSON')
  t.notOk(raw.toString('latin1').includes('same value'), 'the value is not readable in the bytes')

  // Opened here with node:crypto alone, from the layout the module's header describes.
  const key = Buffer.from(hkdfSync('sha256', CREDENTIAL, 'qioc:', 'qualys-ioc-relay store v1', 32))
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from('store:x'))
  decipher.setAuthTag(raw.subarray(12, 28))
  t.equal(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'), '"the same value"')
})

t.test('key names: hashes of the credential and the name, never clear text', async (t) => {
  const b64sha = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url')
  t.equal(redisKey.entry(CREDENTIAL, 'answer', '/ioc/events?filter=x'), `store:${b64sha(CREDENTIAL, 'answer', '/ioc/events?filter=x')}`)
  t.equal(redisKey.lock(CREDENTIAL, 'login'), `lock:${b64sha(CREDENTIAL, 'login')}`)
  t.equal(redisKey.slots(CREDENTIAL), `slots:${b64sha(CREDENTIAL, 'slots')}`)
  t.equal(redisKey.budget(CREDENTIAL), `budget:${b64sha(CREDENTIAL, 'budget')}`)
  t.equal(redisKey.waiters(CREDENTIAL), `waiters:${b64sha(CREDENTIAL, 'waiters')}`)

  const names = [
    redisKey.entry(CREDENTIAL, 'token', 'k'), redisKey.entry(CREDENTIAL, 'answer', 'k'), redisKey.entry(CREDENTIAL, 'result', 'k'),
    redisKey.entry(CREDENTIAL, 'mark', 'k'), redisKey.entry('another', 'token', 'k'), redisKey.lock(CREDENTIAL, 'k'),
    redisKey.slots(CREDENTIAL), redisKey.slots('another'), redisKey.budget(CREDENTIAL), redisKey.waiters(CREDENTIAL)
  ]
  t.equal(new Set(names).size, names.length, 'every kind and credential its own name')
  for (const name of names) {
    t.match(name, /^(store|lock|slots|budget|waiters):[A-Za-z0-9_-]{43}$/, `${name.split(':')[0]}: a fixed prefix and 43 characters of hash`)
    t.notOk(/alice|s3cret|qualys|filter/.test(name), 'no user name, password, host or query in it')
  }
})
