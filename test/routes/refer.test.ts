import t from 'tap'
import { bearer, build, hsToken } from '../helper.js'

const TOKEN = bearer(hsToken({ user: 'u', pass: 'p' }))
const Q = 'https://qualysguard.qg2.apps.qualys.com/ioc/#/hunting?search='
const item = (id: string, name: string, search: string) => ({
  id: `ref-qualys-search-${id}`,
  title: `Search for this ${name}`,
  description: `Check this ${name} status with Qualys`,
  url: Q + search,
  categories: ['Search', 'Qualys']
})

// Expected ids and URLs were produced with Python's urllib.parse.quote, not with the relay.
t.test('all seven types, with spaces, quotes, backslashes, slashes and non-ASCII', async (t) => {
  const { app } = await build(t, { PLATFORM_URL: 'https://qualysguard.qg2.apps.qualys.com/' })
  const res = await app.inject({
    method: 'POST',
    url: '/refer/observables',
    headers: TOKEN,
    payload: [
      { type: 'md5', value: '6f8d12a1b0c9e7d5a4f3b2c1d0e9f8a7' },
      { type: 'sha256', value: '4ad5e3c4ea0b3a8c84a5ba9ec4e8f0cd1cd26fbb54e1e01b54b0e6e0cc9a0f34' },
      { type: 'email', value: 'ignored@example.com' },
      { type: 'file_name', value: 'my report (final).pdf.exe' },
      { type: 'file_path', value: 'C:\\Users\\Jürgen\\Downloads\\say "hi".exe' },
      { type: 'file_path', value: '/usr/local/bin/x~y' },
      { type: 'ip', value: '10.0.0.1', extra: 1 },
      { type: 'ipv6', value: '2001:db8::a:1' },
      { type: 'ip', value: '   ' },
      { type: 'SHA256', value: 'ignored: types match exactly' },
      { type: 'domain', value: 'пример.рф' },
      { type: 'mutex', value: 'Global\\Mtx`1*' },
      { type: 'ip', value: '10.0.0.1' }
    ]
  })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), {
    data: [
      item('md5-6f8d12a1b0c9e7d5a4f3b2c1d0e9f8a7', 'MD5', 'file.hash.md5%3A%20%226f8d12a1b0c9e7d5a4f3b2c1d0e9f8a7%22'),
      item('sha256-4ad5e3c4ea0b3a8c84a5ba9ec4e8f0cd1cd26fbb54e1e01b54b0e6e0cc9a0f34', 'SHA256',
        'file.hash.sha256%3A%20%224ad5e3c4ea0b3a8c84a5ba9ec4e8f0cd1cd26fbb54e1e01b54b0e6e0cc9a0f34%22'),
      item('file_name-my%20report%20%28final%29.pdf.exe', 'file name', 'file.name%3A%20%22my%20report%20%28final%29.pdf.exe%22'),
      item('file_path-C%3A%5CUsers%5CJ%C3%BCrgen%5CDownloads%5Csay%20%22hi%22.exe', 'file path',
        'file.fullPath%3A%20%22C%3A%5CUsers%5CJ%C3%BCrgen%5CDownloads%5Csay%20%22hi%22.exe%22'),
      item('file_path-%2Fusr%2Flocal%2Fbin%2Fx~y', 'file path', 'file.fullPath%3A%20%22/usr/local/bin/x~y%22'),
      item('ip-10.0.0.1', 'IP',
        'network.local.address.ip%3A%20%2210.0.0.1%22%20or%20network.remote.address.ip%3A%20%2210.0.0.1%22'),
      item('ipv6-2001%3Adb8%3A%3Aa%3A1', 'IPv6',
        'network.local.address.ip%3A%20%222001%3Adb8%3A%3Aa%3A1%22%20or%20network.remote.address.ip%3A%20%222001%3Adb8%3A%3Aa%3A1%22'),
      item('domain-%D0%BF%D1%80%D0%B8%D0%BC%D0%B5%D1%80.%D1%80%D1%84', 'domain',
        'network.remote.address.fqdn%3A%20%22%D0%BF%D1%80%D0%B8%D0%BC%D0%B5%D1%80.%D1%80%D1%84%22'),
      item('mutex-Global%5CMtx%601%2A', 'mutex', 'handle.name%3A%20%22Global%5CMtx%601%2A%22')
    ]
  })
})

t.test('the platform URL is derived from the API URL when not set', async (t) => {
  const cases: Array<[Record<string, string>, Record<string, string>, string]> = [
    [{ API_URL: 'https://gateway.qg1.apps.qualys.com' }, {}, 'https://qualysguard.qualys.com'],
    [{ API_URL: 'https://gateway.qg1.apps.qualys.eu/' }, {}, 'https://qualysguard.qualys.eu'],
    [{ API_URL: 'https://gateway.qg3.apps.qualys.com' }, {}, 'https://qualysguard.qg3.apps.qualys.com'],
    [{}, { API_URL: 'https://gateway.gov1.qualys.us' }, 'https://qualysguard.gov1.qualys.us'],
    [{ PLATFORM_URL: 'https://qualysguard.qg2.apps.qualys.com' }, { API_URL: 'https://gateway.qg4.apps.qualys.com' },
      'https://qualysguard.qg4.apps.qualys.com'],
    [{ API_URL: 'https://gateway.qg2.apps.qualys.com' }, { PLATFORM_URL: 'https://my-pcp.example/' }, 'https://my-pcp.example'],
    // A token may name a host the relay would never call: refer only builds a link from it.
    [{}, { API_URL: 'https://gateway.evil.example' }, 'https://qualysguard.evil.example']
  ]
  for (const [env, claims, platform] of cases) {
    const { app } = await build(t, env)
    const res = await app.inject({
      method: 'POST',
      url: '/refer/observables',
      headers: bearer(hsToken({ user: 'u', pass: 'p', ...claims })),
      payload: [{ type: 'domain', value: 'example.com' }]
    })
    t.equal(res.json().data[0].url, `${platform}/ioc/#/hunting?search=network.remote.address.fqdn%3A%20%22example.com%22`,
      `${JSON.stringify(env)} ${JSON.stringify(claims)}`)
  }
})

t.test('no platform URL at all: [] and a warning', async (t) => {
  const { app } = await build(t, { API_URL: 'http://127.0.0.1:1' })
  const res = await app.inject({ method: 'POST', url: '/refer/observables', headers: TOKEN, payload: [{ type: 'ip', value: '1.1.1.1' }] })
  t.strictSame(res.json(), {
    data: [],
    errors: [{
      type: 'warning',
      code: 'invalid argument',
      message: 'PLATFORM_URL is missing: set PLATFORM_URL, or an API_URL of the form https://gateway.<pod>, in the environment or the token'
    }]
  })
  const none = await app.inject({ method: 'POST', url: '/refer/observables', headers: TOKEN, payload: [{ type: 'email', value: 'a@b.c' }] })
  t.strictSame(none.json(), { data: [] }, 'no warning when nothing would be linked')
})
