// The loader's window on files: grammar/ does no I/O itself, the caller passes a FileSource.

/** Read-only access to files and directories; paths are absolute, '/'-separated. */
export interface FileSource {
  /** The file's text, or undefined when it does not exist or is not a regular file. */
  readFile(path: string): string | undefined
  /** Entry names of a directory (files and subdirectories), or undefined when it is not one. */
  listDir(path: string): string[] | undefined
  /** 'file', 'dir' or undefined when nothing is there. */
  kind(path: string): 'file' | 'dir' | undefined
}

/** Joins and normalises '/'-separated paths ('.' and '..' segments resolved). */
export function joinPath (base: string, rel: string): string {
  const parts = (rel.startsWith('/') ? rel : `${base}/${rel}`).split('/')
  const out: string[] = []
  for (const p of parts) {
    if (p === '' || p === '.') continue
    if (p === '..') out.pop()
    else out.push(p)
  }
  return '/' + out.join('/')
}

export function dirname (path: string): string {
  const i = path.lastIndexOf('/')
  return i <= 0 ? '/' : path.slice(0, i)
}

/** An in-memory FileSource, for tests and for templates sent over the wire. */
export function memorySource (files: Record<string, string>): FileSource {
  const dirs = new Map<string, Set<string>>()
  for (const f of Object.keys(files)) {
    let p = f
    while (p !== '/') {
      const d = dirname(p)
      const set = dirs.get(d) ?? new Set<string>()
      set.add(p.slice(d === '/' ? 1 : d.length + 1))
      dirs.set(d, set)
      p = d
    }
  }
  return {
    readFile: path => files[path],
    listDir: path => { const s = dirs.get(path); return s ? [...s].sort() : undefined },
    kind: path => (path in files ? 'file' : dirs.has(path) ? 'dir' : undefined),
  }
}
