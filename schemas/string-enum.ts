import { Type } from '@sinclair/typebox'

// One string of a fixed list, as JSON Schema's `enum` (what OpenAPI shows as a list of values).
// A union of literals says the same, but fast-json-stringify serializes a union through one
// validator per value (~270 KB of generated code for the CTIM documents) where an enum is a string.
export const StringEnum = <T extends string>(values: readonly T[], options: { description?: string } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options })
