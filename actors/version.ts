// monk's version: the one in package.json, read once (from the source tree or from dist/).
import { readFileSync } from 'node:fs'

function fromPackageJson (): string {
  let dir = new URL('.', import.meta.url)
  for (let up = 0; up < 4; up++, dir = new URL('..', dir)) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8'))
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'monk' && 'version' in pkg && typeof pkg.version === 'string') return pkg.version
    } catch { /* not here: look one folder up */ }
  }
  return '0.0.0-unknown'
}

export const version = fromPackageJson()
