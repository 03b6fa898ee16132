import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ROOT } from './processes.js'

// The demo's observables (examples/observables.json), by type.
export const O = Object.fromEntries((JSON.parse(readFileSync(path.join(ROOT, 'examples/observables.json'), 'utf8')) as Array<{ type: string, value: string }>)
  .map((o) => [o.type, o])) as Record<string, { type: string, value: string }>

// Requests whose observables overlap: asked at once, each query must still be fetched once.
export const LISTS = [[O.sha256, O.ip], [O.ip, O.domain], [O.mutex, O.file_name, O.sha256], [O.md5], [O.ipv6, O.file_path]]
