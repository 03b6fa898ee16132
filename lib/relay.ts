import type { FastifyRequest } from 'fastify'
import type { Credentials, Lookup } from '../schemas/qualys.js'
import { invalidArgument, type RelayError } from './errors.js'
import { uniqueSupported, type Observable } from '../schemas/observables.js'

// The supported observables of a request, each once, capped at `max` with a warning.
export function lookups (body: Observable[], max: number): { items: Lookup[], warnings: RelayError[] } {
  const items = uniqueSupported(body)
  if (items.length <= max) return { items, warnings: [] }
  return {
    items: items.slice(0, max),
    warnings: [invalidArgument(
      `Too many observables: ${items.length} supported observables were sent; the first ${max} were looked up.`,
      'warning')]
  }
}

// Set by the routes' onRequest hook; a route without it is a wiring bug, not a client error.
export function credentials (request: FastifyRequest): Credentials {
  if (request.credentials === null) throw new Error('route reached without authentication')
  return request.credentials
}
