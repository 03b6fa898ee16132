import type { Lookup } from '../../../lib/relay.js'
import type { Observation } from '../ctim/index.js'
import { lookupBatch, BATCH_MAX } from './batch.js'
import { lookupOne } from './single.js'
import type { Session } from './session.js'

const isHash = (item: Lookup) => item.type === 'md5' || item.type === 'sha256'

// Observables run concurrently; the per-credential limiter inside the session caps the calls.
// With `batch`, md5/sha256 observables share one query per state (an optimisation only: the
// answer is the same as one by one).
export async function lookupAll (session: Session, items: Lookup[], limit: number, batch = true): Promise<Observation[]> {
  const hashes = batch ? items.filter(isHash) : []
  const groups: Lookup[][] = []
  if (hashes.length >= 2) {
    for (let i = 0; i < hashes.length; i += BATCH_MAX) groups.push(hashes.slice(i, i + BATCH_MAX))
  }
  const grouped = new Set(groups.flat())
  const done = new Map<Lookup, Observation>()
  await Promise.all([
    ...items.filter((item) => !grouped.has(item)).map(async (item) => { done.set(item, await lookupOne(session, item, limit)) }),
    ...groups.map(async (group) => {
      const observations = await lookupBatch(session, group, limit)
      group.forEach((item, i) => done.set(item, observations[i] as Observation))
    })
  ])
  return items.map((item) => done.get(item) as Observation)
}
