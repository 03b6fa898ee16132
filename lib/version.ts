import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

// package.json sits beside the sources, or one level above dist/.
function findPackageJson (): { name: string, version: string } {
  let dir = import.meta.dirname
  for (let i = 0; i < 4; i++) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'))
    dir = path.dirname(dir)
  }
  throw new Error('package.json not found')
}

const pkg = findPackageJson()
export const VERSION: string = pkg.version
export const USER_AGENT = `${pkg.name}/${pkg.version}`
