import { createHash } from 'node:crypto'
import { isIP } from 'node:net'
import { DISPOSITIONS, type CtimObservable, type Severity } from '../../../schemas/ctim.js'
import type { QualysEvent } from '../../../schemas/qualys.js'

// The SPEC §5 tables (the readers of Qualys event fields: lib/event-fields.ts).

export const SOURCE = 'Qualys IOC'
export const X500 = '6ba7b814-9dad-11d1-80b4-00c04fd430c8'

export const TITLES = [
  'Known Good', 'Remediated', 'Suspicious Low File event', 'Suspicious Low Process event',
  'Suspicious Low Network event', 'Suspicious Medium File event', 'Suspicious Medium Process event',
  'Suspicious Medium Network event', 'Malicious File event', 'Malicious Process event', 'Malicious Network event'
]
export const SEVERITY: Severity[] = ['None', 'High', 'Low', 'Low', 'Low', 'Medium', 'Medium', 'Medium', 'High', 'High', 'High']
export const VERDICTS: Record<string, keyof typeof DISPOSITIONS> = {
  KNOWN: 1, UNKNOWN: 5, SUSPICIOUS: 3, MALICIOUS: 2, REMEDIATED: 2
}

const X500_BYTES = Buffer.from(X500.replaceAll('-', ''), 'hex')

// RFC 4122 name-based (SHA-1) UUID in the X500 namespace: the indicator id of an event id.
export function uuid5 (name: string): string {
  const hash = createHash('sha1').update(X500_BYTES).update(name, 'utf8').digest()
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80
  const hex = hash.toString('hex', 0, 16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

// The CTIM type of an address: `ip` (IPv4), `ipv6`, or undefined when it is no IP address at all.
export function ipType (value: string): 'ip' | 'ipv6' | undefined {
  const family = isIP(value)
  return family === 4 ? 'ip' : family === 6 ? 'ipv6' : undefined
}

// Cuts a text to CTIM's limit (in UTF-16 units, never inside a surrogate pair), marking the cut.
export function cut (text: string, max: number): string {
  if (text.length <= max) return text
  let end = max - 1
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return `${text.slice(0, end)}…`
}

// The 0–10 score as an integer, undefined when missing, NaN when present but not a score.
export function score (event: QualysEvent): number | undefined {
  const raw = event.score
  if (raw === undefined || raw === null || raw === '') return undefined
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN
  return Number.isInteger(n) && n >= 0 && n <= 10 ? n : NaN
}

export const RELATIONS: Array<[string, CtimObservable['type'], string, string, CtimObservable['type']]> = [
  ['file.fileName', 'file_name', 'File_Name_Of', 'file.sha256', 'sha256'],
  ['file.fileName', 'file_name', 'File_Name_Of', 'file.md5', 'md5'],
  ['file.fullPath', 'file_path', 'File_Path_Of', 'file.sha256', 'sha256'],
  ['file.fullPath', 'file_path', 'File_Path_Of', 'file.md5', 'md5'],
  ['process.processName', 'file_name', 'Connected_To', 'network.remoteIP', 'ip'],
  ['process.processName', 'file_name', 'Connected_To', 'network.remoteDns', 'domain'],
  ['network.remoteIP', 'ip', 'Resolved_To', 'network.remoteDns', 'domain']
]
