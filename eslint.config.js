import { globalIgnores } from 'eslint/config'
import { neostandard } from 'neostandard'

// Build output, coverage, tap's cache, containers' storage and the unpacked Node lines are not
// ours to lint.
export default [
  globalIgnores(['dist', 'coverage', '.tap', 'node_modules', '.test-build', '.podman', '.node']),
  ...neostandard({ ts: true })
]
