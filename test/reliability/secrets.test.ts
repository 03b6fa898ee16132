import t from 'tap'
import { allLogs, bearer, build, hsToken, SECRET_KEY, startJwks, withSimulator } from '../helper.js'

// Drives the relay through success, failures and errors that echo what they were sent, then
// checks every log line and every answer of this process for the secrets involved.
t.test('no password, Qualys token, JWT or SECRET_KEY in any log line or answer', async (t) => {
  const PASS = 'Pa55&word+with%20specials'
  const sim = await withSimulator(t, { accounts: { demo: PASS } })
  const jwks = await startJwks(t)
  const { app } = await build(t, { API_URL: sim.url, LOOKUP_CACHE_TTL_S: '0', JWKS_HOSTS: jwks.origin, LOG_LEVEL: 'trace' }, (f) => {
    f.post('/boom', async (request) => {
      request.credentials = await f.authenticate(request) // as every relay route does
      throw new Error(`bug while holding ${PASS}`)
    })
  })
  const jwts = [
    hsToken({ user: 'demo', pass: PASS }),
    hsToken({ user: 'demo', pass: 'wrong-password-123' }),
    hsToken({ user: 'demo', pass: PASS }, 'not-the-secret'),
    jwks.sign({ user: 'demo', pass: PASS, jwks_host: jwks.host, aud: 'http://localhost:80' }),
    jwks.sign({ user: 'demo', pass: PASS, jwks_host: jwks.host, aud: 'https://wrong.example' })
  ]
  const answers: string[] = []
  const call = async (url: string, jwt: string, payload?: unknown) => {
    const res = await app.inject({ method: 'POST', url, headers: { ...bearer(jwt), 'x-api-key': PASS }, payload: payload === undefined ? undefined : JSON.stringify(payload) })
    answers.push(res.body)
    return res.json()
  }
  const obs = [{ type: 'mutex', value: 'MSFTHISTORY!' }, { type: 'ip', value: '23.38.112.137' }]
  for (const jwt of jwts) {
    await call('/health', jwt)
    await call('/observe/observables', jwt, obs)
  }
  sim.expireTokens()
  await call('/observe/observables', jwts[0] as string, obs) // 401, refresh, retry
  // Error pages that echo the password and the Qualys token they were sent.
  const token = sim.calls.filter((c) => c.token !== undefined).at(-1)?.token as string
  sim.inject({ status: 403, body: `denied for demo / ${PASS} / ${encodeURIComponent(PASS)} with ${token}` })
  const echoed = await call('/observe/observables', jwts[0] as string, obs)
  t.match(echoed.errors[0].message, /denied for demo \/ \[redacted\] \/ \[redacted\] with \[redacted\]/)
  sim.inject({ status: 401, body: `bad password ${PASS}` }, 1, 'auth')
  sim.expireTokens()
  await call('/health', jwts[0] as string)
  await call('/boom', jwts[0] as string)

  const qualysTokens = [...new Set(sim.calls.map((c) => c.token).filter((x): x is string => x !== undefined))]
  t.ok(qualysTokens.length >= 2, 'Qualys tokens were used')
  const secrets = [PASS, encodeURIComponent(PASS), 'wrong-password-123', SECRET_KEY, ...jwts, ...qualysTokens]
  t.ok(allLogs.length > 10, `${allLogs.length} log lines captured`)
  for (const secret of secrets) {
    t.notOk(allLogs.some((line) => line.includes(secret)), `no log line contains ${secret.slice(0, 12)}…`)
    t.notOk(answers.some((body) => body.includes(secret)), `no answer contains ${secret.slice(0, 12)}…`)
  }
})
