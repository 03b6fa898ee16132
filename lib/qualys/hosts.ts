// Qualys' public API gateways and classic API hosts (shared/qualys-api.md §5): the hosts a
// token's API_URL may name when QUALYS_HOSTS is not set.
const PODS = [
  'qg1.apps.qualys.com', 'qg2.apps.qualys.com', 'qg3.apps.qualys.com', 'qg4.apps.qualys.com',
  'gov1.qualys.us', 'qg1.apps.qualys.eu', 'qg2.apps.qualys.eu', 'qg3.apps.qualys.it',
  'qg1.apps.qualys.in', 'qg1.apps.qualys.ca', 'qg1.apps.qualys.ae', 'qg1.apps.qualys.co.uk',
  'qg1.apps.qualys.com.au', 'qg1.apps.qualysksa.com'
]

const CLASSIC = PODS.map((pod) => pod === 'qg1.apps.qualys.com' ? 'qualys.com' : pod === 'qg1.apps.qualys.eu' ? 'qualys.eu' : pod)

export const DEFAULT_QUALYS_HOSTS = [
  ...PODS.map((pod) => `gateway.${pod}`),
  ...CLASSIC.map((pod) => `qualysapi.${pod}`)
].join(',')
