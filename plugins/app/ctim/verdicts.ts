import { DISPOSITIONS, type Judgement, type Verdict } from '../../../schemas/ctim.js'

const DAY = 86_400_000

// One verdict per observable that has judgements, by CTIM's rule: the highest priority wins;
// among equals Clean (1) before Malicious (2) before Suspicious (3) before Common (4) before
// Unknown (5) — the lowest disposition number. Valid from the request time for `days` days.
export function verdicts (judgements: Judgement[], requestTime: Date, days: number): Verdict[] {
  const best = new Map<string, Judgement>()
  for (const j of judgements) {
    const key = `${j.observable.type}\u0000${j.observable.value}`
    const held = best.get(key)
    if (held === undefined || j.priority > held.priority || (j.priority === held.priority && j.disposition < held.disposition)) best.set(key, j)
  }
  const start = requestTime.toISOString()
  const end = new Date(requestTime.getTime() + days * DAY).toISOString()
  return [...best.values()].map((j) => ({
    type: 'verdict',
    observable: j.observable,
    disposition: j.disposition,
    disposition_name: DISPOSITIONS[j.disposition as keyof typeof DISPOSITIONS],
    valid_time: { start_time: start, end_time: end }
  }) as Verdict)
}
