// Mints an HS256 token for shared-secret mode, signed with SECRET_KEY (environment or .env).
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createSigner } from 'fast-jwt'

const usage = `Usage: npm run token -- --user <qualys user> --pass <qualys password>
         [--api-url <gateway URL>] [--platform-url <UI URL>] [--limit <n>] [--aud <relay URL>] [--expires-in <hours>]`

function fail (message: string): never {
  console.error(`token: ${message}`)
  process.exit(1)
}

let values
try {
  ({ values } = parseArgs({
    options: {
      user: { type: 'string' },
      pass: { type: 'string' },
      'api-url': { type: 'string' },
      'platform-url': { type: 'string' },
      limit: { type: 'string' },
      aud: { type: 'string' },
      'expires-in': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  }))
} catch (err) {
  fail(`${(err as Error).message}\n${usage}`)
}
if (values.help === true) {
  console.log(usage)
  process.exit(0)
}
if (existsSync('.env')) process.loadEnvFile('.env')
const secret = process.env.SECRET_KEY
if (secret === undefined || secret === '') {
  fail('SECRET_KEY is not set: export it or put SECRET_KEY=... in .env (the relay must use the same value)')
}
if (values.user === undefined || values.pass === undefined) fail(`--user and --pass are required\n${usage}`)
for (const [flag, value] of [['--api-url', values['api-url']], ['--platform-url', values['platform-url']], ['--aud', values.aud]]) {
  if (value !== undefined && !/^https?:\/\/[^/\s]+/.test(value)) fail(`${flag} must be an http(s) URL`)
}
if (values.limit !== undefined && !/^[1-9]\d*$/.test(values.limit)) fail('--limit must be a positive integer')
const hours = values['expires-in'] === undefined ? undefined : Number(values['expires-in'])
if (hours !== undefined && !(hours > 0)) fail('--expires-in must be a positive number of hours')

const payload: Record<string, unknown> = { user: values.user, pass: values.pass }
if (values['api-url'] !== undefined) payload.API_URL = values['api-url']
if (values['platform-url'] !== undefined) payload.PLATFORM_URL = values['platform-url']
if (values.limit !== undefined) payload.CTR_ENTITIES_LIMIT = Number(values.limit)
if (values.aud !== undefined) payload.aud = values.aud
const sign = createSigner({ key: secret, algorithm: 'HS256', ...(hours === undefined ? {} : { expiresIn: hours * 3600 * 1000 }) })
console.log(sign(payload))
