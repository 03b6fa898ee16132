// The benchmark's observables and the simulator events that they find: every observable has
// two events, one Active and one Historical, with the fields a real event carries.
import type { Fixtures } from '../simulator/fixtures/index.js'

export const TYPES = ['md5', 'sha256', 'file_name', 'file_path', 'ip', 'domain', 'mutex'] as const
type BenchType = typeof TYPES[number]

const hex = (i: number, len: number) => i.toString(16).padStart(len, '0')

function value (type: BenchType, i: number): string {
  switch (type) {
    case 'md5': return `b${hex(i, 31)}`
    case 'sha256': return `b${hex(i, 63)}`
    case 'file_name': return `tool${i}.exe`
    case 'file_path': return `C:\\Temp\\${i}\\run.exe`
    case 'ip': return `10.9.${i}.1`
    case 'domain': return `host${i}.example`
    default: return `Global\\M${i}`
  }
}

// `sha256`: n sha256 observables; `mixed`: the seven types in turn (49 = 7 of each).
export function observables (series: 'sha256' | 'mixed', n: number): Array<{ type: BenchType, value: string }> {
  return Array.from({ length: n }, (_, i) => {
    const type = series === 'sha256' ? 'sha256' : TYPES[i % TYPES.length] as BenchType
    return { type, value: value(type, i) }
  })
}

function event (type: BenchType, v: string, i: number, active: boolean) {
  const field: Record<BenchType, Record<string, unknown>> = {
    md5: { file: { fileName: `f${i}.dll`, fullPath: `C:\\Windows\\f${i}.dll`, md5: v } },
    sha256: { file: { fileName: `f${i}.dll`, fullPath: `C:\\Windows\\f${i}.dll`, sha256: v } },
    file_name: { file: { fileName: v, fullPath: `C:\\Users\\u\\${v}` } },
    file_path: { file: { fileName: 'run.exe', fullPath: v } },
    ip: { process: { processName: 'svc.exe' }, network: { localIP: '10.1.1.1', remoteIP: v, remoteDns: `r${i}.example` } },
    domain: { process: { processName: 'svc.exe' }, network: { localIP: '10.1.1.1', remoteIP: `172.16.${i}.9`, remoteDns: v } },
    mutex: { handle: { name: v, type: 'MUTANT' }, process: { processName: 'svc.exe' } }
  }
  const day = active ? '03' : '02'
  return {
    id: `B_${type}_${i}_${active ? 'a' : 'h'}`,
    type: type === 'ip' || type === 'domain' ? 'NETWORK' : type === 'mutex' ? 'MUTEX' : 'FILE',
    action: 'CREATED',
    dateTime: `2025-${day}-01T10:${String(i % 60).padStart(2, '0')}:00.000+0000`,
    score: String(i % 11),
    indicator2: [{ score: i % 11, verdict: 'MALICIOUS', threatName: 'Bench.Threat' }],
    asset: {
      agentId: `agent-${i}`,
      netBiosName: `HOST-${i}`,
      fullOSName: 'Microsoft Windows 10 Enterprise 10.0.19045 64-bit',
      interfaces: [{ ipAddress: `10.20.0.${i % 250}`, macAddress: '00:50:56:a1:2b:3c' }]
    },
    ...field[type]
  }
}

// The events of both series, up to n observables each, added to the base fixtures.
export function benchFixtures (base: Fixtures, n = 50): Fixtures {
  const all = [...observables('sha256', n), ...observables('mixed', n)]
  const unique = [...new Map(all.map((o) => [`${o.type} ${o.value}`, o])).values()]
  return {
    active: [...base.active, ...unique.map((o, i) => event(o.type, o.value, i, true))],
    historical: [...base.historical, ...unique.map((o, i) => event(o.type, o.value, i, false))]
  }
}
