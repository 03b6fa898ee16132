// The readers of Qualys event fields, shared by the CTIM builder and the tiles.

const paths = new Map<string, string[]>()

// A present, non-blank string (or a finite number, as text) at a dotted path; anything else,
// blank strings included, counts as missing: CTIM rejects blank strings.
export function str (event: unknown, path: string): string | undefined {
  let keys = paths.get(path)
  if (keys === undefined) paths.set(path, keys = path.split('.'))
  let cur = event
  for (const key of keys) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  if (typeof cur === 'number') return Number.isFinite(cur) ? String(cur) : undefined
  return typeof cur === 'string' && /\S/.test(cur) ? cur : undefined
}

// Qualys' `2020-02-10T00:21:04.000+0000` → RFC 3339 UTC `2020-02-10T00:21:04.000Z`. Only an ISO
// date-time is read: Date.parse alone would take "7" for the year 2001.
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/
export function rfc3339 (value: string | undefined): string | undefined {
  if (value === undefined || !ISO.test(value)) return undefined
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
  if (Number.isNaN(ms)) return undefined
  const iso = new Date(ms).toISOString()
  return /^\d{4}-/.test(iso) ? iso : undefined
}
