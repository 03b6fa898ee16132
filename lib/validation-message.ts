// Turns Ajv errors on an observables list into the reference relay's (marshmallow) wording:
// Invalid JSON payload received. {"0": {"value": ["Missing data for required field."]}}

interface AjvError { instancePath: string, keyword: string, params: Record<string, unknown> }

type Messages = Record<string, Record<string, string[]> | string[]>

function at (data: unknown, pointer: string[]): unknown {
  let cur = data
  for (const key of pointer) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

function describe (err: AjvError, value: unknown): string {
  if (err.keyword === 'required') return 'Missing data for required field.'
  if (err.keyword === 'minLength') return 'Shorter than minimum length 1.'
  if (err.keyword === 'maxItems') return `Longer than maximum length ${String(err.params.limit)}.`
  if (value === null) return 'Field may not be null.'
  return 'Not a valid string.'
}

function add (messages: Messages, index: string, field: string | undefined, text: string) {
  if (field === undefined) {
    const list = (messages[index] ??= [])
    if (Array.isArray(list) && !list.includes(text)) list.push(text)
    return
  }
  const entry = messages[index]
  const fields = (entry === undefined || Array.isArray(entry)) ? (messages[index] = {}) : entry
  const list = (fields[field] ??= [])
  if (!list.includes(text)) list.push(text)
}

// Python's json.dumps spacing, so the message reads like the reference relay's.
function dumps (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(dumps).join(', ')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${dumps(v)}`).join(', ')}}`
  }
  return JSON.stringify(value)
}

// The detail of SPEC §1's invalid-payload message for these validation errors.
export function observablesDetail (errors: AjvError[], body: unknown): string {
  const messages: Messages = {}
  // An object body (tiles): each field by its name.
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    for (const err of errors) {
      const field = err.keyword === 'required' ? String(err.params.missingProperty) : err.instancePath.split('/')[1]
      if (field === undefined || field === '') add(messages, '_schema', undefined, 'Invalid input type.')
      else add(messages, field, undefined, describe(err, err.keyword === 'required' ? undefined : at(body, [field])))
    }
    return dumps(messages)
  }
  for (const err of errors) {
    const pointer = err.instancePath.split('/').slice(1)
    if (pointer.length === 0) {
      add(messages, '_schema', undefined, err.keyword === 'maxItems' ? describe(err, body) : 'Invalid input type.')
      continue
    }
    const [index, field] = pointer
    if (err.keyword === 'required') {
      add(messages, index, String(err.params.missingProperty), describe(err, undefined))
    } else if (field === undefined) {
      add(messages, index, '_schema', 'Invalid input type.')
    } else {
      add(messages, index, field, describe(err, at(body, pointer)))
    }
  }
  const sorted = Object.fromEntries(Object.entries(messages).sort(([a], [b]) =>
    (Number(a) - Number(b)) || a.localeCompare(b)))
  return dumps(sorted)
}
