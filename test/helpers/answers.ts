// Comparing answers: transient ids and request times replaced by stable markers.
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

// Replaces random (uuid4) transient ids by transient:<type>-<n>, numbered in order of first
// appearance; also reports ids that are not uuid4 or that two documents share.
export function normaliseIds (body: unknown): { body: any, problems: string[] } {
  const names = new Map<string, string>()
  const counters: Record<string, number> = {}
  const problems: string[] = []
  const text = JSON.stringify(body).replace(/transient:(sighting|judgement|relationship)-([0-9a-f-]{36})/g, (id, type: string, uuid: string) => {
    if (!UUID4.test(uuid)) problems.push(`${id} is not a uuid4`)
    let name = names.get(id)
    if (name === undefined) {
      name = `transient:${type}-${(counters[type] = (counters[type] ?? 0) + 1)}`
      names.set(id, name)
    }
    return name
  })
  const parsed = JSON.parse(text)
  for (const kind of ['sightings', 'judgements', 'relationships']) {
    const ids = (parsed.data?.[kind]?.docs ?? []).map((d: { id: string }) => d.id)
    if (new Set(ids).size !== ids.length) problems.push(`duplicate ${kind} ids`)
  }
  return { body: parsed, problems }
}

// Replaces every start_time/end_time that falls within [from, to] (the request's own time span)
// by `marker`, so that a hand-written expectation can say "the request time".
export function markRequestTimes (body: unknown, from: number, to: number, marker: string): any {
  return JSON.parse(JSON.stringify(body), (key, value) => {
    if ((key === 'start_time' || key === 'end_time') && typeof value === 'string') {
      const ms = Date.parse(value)
      if (ms >= from && ms <= to) return marker
    }
    return value
  })
}
