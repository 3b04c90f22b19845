// Test helpers for the MonkScript loader: load in-memory files, find diagnostics, a seeded PRNG.
import { loadPaths, memorySource, type Diagnostic, type LoadResult } from '../../grammar/monkscript/index.js'

/** Loads in-memory files (absolute paths); `paths` defaults to every file given. */
export function loadFiles (files: Record<string, string>, paths?: string[], opts: { everything?: boolean } = {}): LoadResult {
  return loadPaths(paths ?? Object.keys(files), { source: memorySource(files), ...opts })
}

export function diag (r: LoadResult, code: string): Diagnostic | undefined {
  return r.diagnostics.find(d => d.code === code)
}

/** Mulberry32: a small seeded PRNG so property and fuzz tests are reproducible. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
