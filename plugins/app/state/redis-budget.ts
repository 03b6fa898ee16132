import type { Redis } from 'ioredis'
import { within } from '../../../lib/abortable.js'
import type { BudgetView } from '../../../schemas/qualys.js'
import { DEFAULT_WINDOW_S, type BudgetStore } from './budget.js'
import type { Circuit } from './circuit.js'
import { redisKey } from './keys.js'

// The budget view in Redis, shared by the replicas: one hash per credential (numbers only, under
// a hashed key), changed by scripts so that concurrent replicas never lose a call. SEEN runs the
// rules of budget.ts's observe(); keep both alike. While Redis is down the process's own view
// (`local`) answers, as every other kind of state does.

const SEEN = `
local v = redis.call('HMGET', KEYS[1], 'counted', 'start', 'window', 'inflight')
local limit, remaining, at = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
local window = ARGV[3]
if window == '' and v[3] then window = v[3] end
local w = (tonumber(window) or tonumber(ARGV[5])) * 1000
local counted = limit - remaining
if not v[1] or not v[2] or tonumber(v[1]) - counted > math.max(2, limit / 10) or at >= tonumber(v[2]) + w then
  redis.call('HSET', KEYS[1], 'start', at, 'base', counted, 'own', tonumber(v[4]) or 0)
end
redis.call('HSET', KEYS[1], 'limit', limit, 'window', window, 'seenAt', at, 'counted', counted)
redis.call('PEXPIRE', KEYS[1], 2 * w)
`
const SPEND = "redis.call('HINCRBY', KEYS[1], 'own', 1) redis.call('HINCRBY', KEYS[1], 'inflight', 1) redis.call('PEXPIRE', KEYS[1], 7200000)"
const SETTLE = "if tonumber(redis.call('HGET', KEYS[1], 'inflight') or '0') > 0 then redis.call('HINCRBY', KEYS[1], 'inflight', -1) end"

function parse (hash: Record<string, string>): BudgetView | undefined {
  if (hash.limit === undefined || hash.counted === undefined) return undefined
  const n = (field: string) => Number(hash[field] ?? 0)
  return {
    limit: n('limit'),
    windowSec: hash.window === undefined || hash.window === '' ? undefined : n('window'),
    seenAt: n('seenAt'),
    counted: n('counted'),
    start: n('start'),
    base: n('base'),
    own: n('own'),
    inflight: n('inflight')
  }
}

export function redisBudget (redis: Redis, circuit: Circuit, local: BudgetStore, onFallback: (kind: string) => void): BudgetStore {
  const key = (credential: string) => redisKey.budget(credential)
  // Both: the process's own view goes along, for while Redis is down (done whatever the signal
  // says, as the shared one is: the signal only ends the wait).
  const both = async (mine: Promise<void>, shared: () => Promise<unknown>, signal: AbortSignal | undefined) => {
    await mine
    try {
      await within(signal, circuit.run(shared))
    } catch (err) {
      if (signal?.aborted === true) throw err
      onFallback('set')
    }
  }
  return {
    async get (credential, signal) {
      try {
        const view = parse(await within(signal, circuit.run(() => redis.hgetall(key(credential)))))
        if (view !== undefined) return view
      } catch (err) {
        if (signal?.aborted === true) throw err
        onFallback('get')
      }
      return local.get(credential, signal)
    },
    spend: (credential, signal) => both(local.spend(credential), () => redis.eval(SPEND, 1, key(credential)), signal),
    settle: (credential, signal) => both(local.settle(credential), () => redis.eval(SETTLE, 1, key(credential)), signal),
    seen: (credential, budget, at, signal) => both(local.seen(credential, budget, at), () =>
      redis.eval(SEEN, 1, key(credential), budget.limit, budget.remaining, budget.windowSec ?? '', at, DEFAULT_WINDOW_S), signal)
  }
}
