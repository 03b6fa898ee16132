// server.ts imports this first, so that an unsupported Node.js (20 went out of support in April
// 2026) stops with one line before anything else is loaded, instead of failing somewhere later.
import { nodeSupported, unsupportedNodeMessage } from './node-lines.js'

if (!nodeSupported(process.versions.node)) {
  console.error(unsupportedNodeMessage(process.versions.node))
  process.exit(1)
}
