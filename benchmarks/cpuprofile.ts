// Summary of a V8 .cpuprofile (the inspector's Profiler.stop result, as mesh-peer's `profile`
// command writes it): self time per function and per package, to see what an idle peer spends its
// CPU on without opening DevTools.
//
//   node --import tsx benchmarks/cpuprofile.ts FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface ProfileSummary {
  /** Profiled wall time, ms. */
  wallMs: number
  /** Time in samples that were not idle/program/GC, ms. */
  busyMs: number
  functions: Array<{ name: string; ms: number }>
  packages: Array<{ name: string; ms: number }>
}

/** Where a script URL lives: its npm package, or the repository folder of our own code. */
function owner (url: string): string {
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith('node:') || url === '') return url || '(native)'
  const m = /\/(dist\/)?([^/]+)\/[^/]+$/.exec(url)
  return m ? `monk:${m[2]}` : url
}

export function summarize (file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0))
  const fn = new Map<string, number>()
  const pkg = new Map<string, number>()
  let busy = 0
  for (const [id, us] of self) {
    const n = byId.get(id)!
    const f = n.callFrame
    if (f.functionName === '(idle)' || f.functionName === '(program)') continue
    busy += us
    const name = `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist\/)?/, '')}:${f.lineNumber + 1}` : ''}`
    fn.set(name, (fn.get(name) ?? 0) + us)
    const o = f.functionName === '(garbage collector)' ? '(gc)' : owner(f.url)
    pkg.set(o, (pkg.get(o) ?? 0) + us)
  }
  const sorted = (m: Map<string, number>): Array<{ name: string; ms: number }> => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000 }))
  return { wallMs: (p.endTime - p.startTime) / 1000, busyMs: busy / 1000, functions: sorted(fn), packages: sorted(pkg) }
}

export function formatSummary (s: ProfileSummary): string {
  const pct = (ms: number): string => `${(ms / s.wallMs * 100).toFixed(3)} %`
  return [
    `profiled ${(s.wallMs / 1000).toFixed(1)} s: JS busy ${s.busyMs.toFixed(0)} ms = ${pct(s.busyMs)} of a core (main thread only; syscalls, GC threads and libuv outside it)`,
    'by package:',
    ...s.packages.map(x => `  ${pct(x.ms).padStart(9)}  ${x.name}`),
    'by function (self time):',
    ...s.functions.map(x => `  ${pct(x.ms).padStart(9)}  ${x.name}`),
  ].join('\n')
}

if (process.argv[1]?.endsWith('cpuprofile.ts')) {
  const file = process.argv[2]
  if (!file) { console.error('usage: cpuprofile.ts FILE.cpuprofile [--top N]'); process.exit(2) }
  const i = process.argv.indexOf('--top')
  console.log(formatSummary(summarize(file, i >= 0 ? Number(process.argv[i + 1]) : 25)))
}
