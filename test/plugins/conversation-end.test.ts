import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { bearer, build, DEMO, hsToken, withSimulator } from '../helper.js'
import type { Conversation } from '../../plugins/app/qualys/chain.js'

// Every conversation with Qualys ends with what opened it: once a request is answered (a tile's
// background refresh: once it is done), its deadline's timer is gone, on success and on failure.
// A deadline left ticking keeps its signal for QUALYS_DEADLINE_MS after the answer: at thousands
// of cached answers a second, tens of MB (the bench's "RSS after 20,000" row).

const SHA = 'a'.repeat(64)
const MUTEX = { type: 'mutex', value: 'Global\\evil' }

async function relay (t: any, env: Record<string, string> = {}) {
  const sim = await withSimulator(t, { fixtures: { active: [], historical: [{ id: 'H1', type: 'MUTEX', dateTime: new Date().toISOString().replace('Z', '+0000'), score: '9', handle: { name: MUTEX.value } }] } })
  const { app } = await build(t, { API_URL: sim.url, PLATFORM_URL: 'https://qualysguard.qg2.apps.qualys.com', ...env })
  const opened: Conversation[] = []
  const open = app.qualys.open
  app.qualys.open = (...args) => {
    const c = open(...args)
    opened.push(c)
    return c
  }
  const post = async (url: string, payload: unknown, creds = DEMO) =>
    (await app.inject({ method: 'POST', url, headers: bearer(hsToken(creds)), payload: payload === undefined ? undefined : JSON.stringify(payload) })).json()
  // How many conversations were opened, and how many of them still have their timer.
  const ticking = () => ({ opened: opened.length, ticking: opened.filter((c) => c.deadline.ticking).length })
  return { app, post, ticking }
}

t.test('observe, deliberate and health end their conversation with the answer', async (t) => {
  const r = await relay(t)
  t.match((await r.post('/observe/observables', [MUTEX, { type: 'sha256', value: SHA }])).data.sightings, { count: 1 })
  t.same(r.ticking(), { opened: 1, ticking: 0 }, 'observe')
  t.notOk((await r.post('/deliberate/observables', [MUTEX])).errors, 'deliberate answered')
  t.same(r.ticking(), { opened: 2, ticking: 0 }, 'deliberate')
  t.same((await r.post('/health', undefined)).data.status, 'ok')
  t.same(r.ticking(), { opened: 3, ticking: 0 }, 'health')
  t.ok((await r.post('/refer/observables', [MUTEX])).data)
  t.same(r.ticking(), { opened: 3, ticking: 0 }, 'refer asks Qualys nothing')
})

t.test('a failed conversation is ended all the same', async (t) => {
  const r = await relay(t)
  const wrong = { user: 'demo', pass: 'not-the-password' }
  t.match((await r.post('/observe/observables', [MUTEX], wrong)).errors, [{ code: 'authorization error' }])
  t.same(r.ticking(), { opened: 1, ticking: 0 }, 'observe, login refused')
  t.match((await r.post('/health', undefined, wrong)).errors, [{ code: 'authorization error' }])
  t.same(r.ticking(), { opened: 2, ticking: 0 }, 'health, login refused')
  t.match((await r.post('/tiles/tile-data', { tile_id: 'qualys-ioc-event-summary' }, wrong)).errors, [{ code: 'authorization error' }])
  t.same(r.ticking(), { opened: 3, ticking: 0 }, 'a tile, login refused')
})

t.test('a tile: computed in the request, then refreshed in the background by a conversation of its own', async (t) => {
  const r = await relay(t, { TILE_CACHE_TTL_S: '1' })
  const tile = { tile_id: 'qualys-ioc-event-summary', period: 'last_24_hours' }
  t.ok((await r.post('/tiles/tile-data', tile)).data)
  t.same(r.ticking(), { opened: 1, ticking: 0 }, 'computed in the request')
  await sleep(1100)
  t.ok((await r.post('/tiles/tile-data', tile)).data, 'stale: answered at once')
  t.equal(r.ticking().opened, 3, 'the request\'s conversation and the refresh\'s')
  await r.app.tiles.settle()
  t.same(r.ticking(), { opened: 3, ticking: 0 }, 'both ended once the refresh is done')
})
