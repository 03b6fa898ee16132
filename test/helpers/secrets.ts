import type { Simulator } from '../../simulator/index.js'

export const SECRET_KEY = 'test-secret-key-0123456789abcdef'

// Every log line is kept so tests can prove no secret reaches the log.
export const allLogs: string[] = []

// Every secret a test file hands the relay is registered here; when the file ends, none may
// appear in any log line it produced (a leak fails the file).
const secrets = new Set<string>([SECRET_KEY])
export const simulators: Simulator[] = []
export const registerSecret = (secret: unknown) => {
  if (typeof secret === 'string' && secret.length >= 8) secrets.add(secret)
}
process.on('exit', () => {
  for (const sim of simulators) for (const call of sim.calls) registerSecret(call.token)
  const leaks = [...secrets].filter((secret) => allLogs.some((line) => line.includes(secret)))
  if (leaks.length > 0) {
    console.error(`secrets found in the relay's logs: ${leaks.map((l) => `${l.slice(0, 6)}…`).join(', ')}`)
    process.exitCode = 1
  }
})
