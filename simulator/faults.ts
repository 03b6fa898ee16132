import type http from 'node:http'
import type { Fault, SimCall } from './types.js'

// Answers with the injected fault; false when there is none to apply.
export function applyFault (fault: Fault | undefined, res: http.ServerResponse, call: SimCall): boolean {
  if (fault === undefined || 'pass' in fault) return false
  if ('hang' in fault) { call.status = 0; return true }
  if ('reset' in fault) { call.status = 0; res.socket?.destroy(); return true }
  if ('invalidJson' in fault) {
    call.status = 200
    res.writeHead(200, { 'content-type': 'application/json' }).end('[{"id": "F_broken", "type": ')
    return true
  }
  if ('cutBody' in fault) {
    call.status = 200
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' })
    res.write('[{"id": "F_cut", "type": "FILE"}, {"id": ')
    setTimeout(() => res.socket?.destroy(), 20)
    return true
  }
  call.status = fault.status
  const headers = typeof fault.headers === 'function' ? fault.headers() : fault.headers
  res.writeHead(fault.status, { 'content-type': 'text/plain', ...headers }).end(fault.body ?? '')
  return true
}
