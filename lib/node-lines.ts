// The Node.js lines the relay supports, as package.json's engines states them and CI proves them
// (the whole tap suite on each): 22 from 22.19 (maintenance LTS, end of life 2027-04-30), 24
// (maintenance LTS, end of life 2028-04-30) and 26 (the active LTS, end of life 2029-04-30).
// scripts/node-line.mjs, which runs before anything is compiled, keeps the same list in plain
// JavaScript; test/node-lines.test.ts holds the three to each other.
export const NODE_LINES = [22, 24, 26] as const
export const NODE_FLOOR = { major: 22, minor: 19 } as const

export function nodeSupported (version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number)
  if (major === NODE_FLOOR.major) return minor >= NODE_FLOOR.minor
  return (NODE_LINES as readonly number[]).includes(major)
}

export const unsupportedNodeMessage = (version: string) =>
  `qualys-ioc-relay: Node.js ${version.replace(/^v/, '')} is not supported: run it on Node.js ${NODE_FLOOR.major}.${NODE_FLOOR.minor}+, 24 or 26`
