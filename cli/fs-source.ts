// A FileSource over the real file system, for the CLI and the daemon.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { FileSource } from '../grammar/monkscript/index.js'

export function fsSource (): FileSource {
  return {
    readFile (path) {
      try { return readFileSync(path, 'utf8') } catch { return undefined }
    },
    listDir (path) {
      try { return readdirSync(path).sort() } catch { return undefined }
    },
    kind (path) {
      try {
        const st = statSync(path)
        return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined
      } catch { return undefined }
    },
  }
}

/** Absolute form of a user-given path (relative to the working directory). */
export function absolute (path: string): string {
  return resolve(process.cwd(), path)
}
