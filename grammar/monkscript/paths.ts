// Template path forms (spec §2.3): `ns/name`, `/ns/name`, `./name`, bare member names,
// `templates/<repo>/ns/name`, `<repo>/ns/name` (e.g. `monk/vercel/deploy`), and sub-paths.

/** A reference split into the node it names and a sub-path inside that node. */
export interface PathRef {
  /** Repository named explicitly (`templates/<repo>/...` or `<repo>/ns/name`), if any. */
  repo?: string
  namespace: string
  name: string
  /** Key path inside the node ('' for the node itself), '/'-joined. */
  sub: string
}

/**
 * Candidate readings of a reference written in namespace `fromNs`, most likely first.
 * `bareIsLocal`: a bare `name` means `<fromNs>/name` (group members); elsewhere a bare word has no reading.
 */
export function readPath (ref: string, fromNs: string, bareIsLocal = false): PathRef[] {
  let p = ref.trim()
  if (p === '') return []
  if (p.startsWith('./')) {
    const [name = '', ...sub] = p.slice(2).split('/')
    return name ? [{ namespace: fromNs, name, sub: sub.join('/') }] : []
  }
  p = p.replace(/^\/+/, '')
  const parts = p.split('/').filter(s => s !== '')
  if (parts.length === 1) return bareIsLocal ? [{ namespace: fromNs, name: parts[0] ?? '', sub: '' }] : []
  const out: PathRef[] = []
  if (parts[0] === 'templates' && parts.length >= 4) {
    out.push({ repo: parts[1] ?? '', namespace: parts[2] ?? '', name: parts[3] ?? '', sub: parts.slice(4).join('/') })
  }
  out.push({ namespace: parts[0] ?? '', name: parts[1] ?? '', sub: parts.slice(2).join('/') })
  if (parts.length >= 3) out.push({ repo: parts[0] ?? '', namespace: parts[1] ?? '', name: parts[2] ?? '', sub: parts.slice(3).join('/') })
  return out
}

/** `ns/name` of a reference's node. */
export function nodePath (r: PathRef): string {
  return `${r.namespace}/${r.name}`
}
