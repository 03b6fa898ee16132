// The test helpers, one module per job (test/helpers/): the relay under test and the simulator
// (app), secrets that must never reach a log (secrets), tokens (tokens), a JWKS server (jwks),
// CTIM and tile schemas (ctim), answers made comparable (answers), child processes (processes).
export { build, withSimulator } from './helpers/app.js'
export { allLogs, registerSecret, SECRET_KEY } from './helpers/secrets.js'
export { bearer, DEMO, EVE, hsToken, rawHsToken } from './helpers/tokens.js'
export { startJwks } from './helpers/jwks.js'
export { ctimErrors, tileErrors } from './helpers/ctim.js'
export { markRequestTimes, normaliseIds } from './helpers/answers.js'
export { ROOT, spawnNode, spawnTs } from './helpers/processes.js'
export { startSimulator, type Simulator } from '../simulator/index.js'
