// A hub template that a workload runs is copied into `tpl/` (with its source and commit), with its
// members and groups, so every peer runs it as it was when it was run: a later hub sync does not
// change what runs until `monk update` takes the hub's version again.
import { normalisePath } from '../paths.js'
import { decodeTpl, encodeTpl, keys } from '../state.js'
import { findHubKit } from './lookup.js'
import { decodeKit, hubKeys } from './records.js'

interface Replica {
  get: (key: string) => unknown
  scan: (prefix: string) => ReadonlyArray<{ key: string, value: unknown }>
  put: (key: string, value: ReturnType<typeof encodeTpl>) => Promise<unknown>
}

/**
 * Makes `path` runnable from `tpl/` when it is a hub template: copies it (and its members and groups)
 * unless it is already there (`refresh`: take the hub's current version). Returns the template path
 * to run (a pinned `repo/ns/name` becomes `ns/name`). A loaded template is never touched.
 */
export async function materialise (mesh: Replica, path: string, refresh: boolean): Promise<string> {
  const p = normalisePath(path)
  const own = decodeTpl(mesh.get(keys.tpl(p)))
  if (own && own.repo === undefined) return p
  if (own && !refresh) return p
  const kit = findHubKit(mesh, path)
  if (!kit) return p
  const queue = [kit.def.path]
  const done = new Set<string>()
  while (queue.length) {
    const q = queue.shift()!
    if (done.has(q)) continue
    done.add(q)
    const k = decodeKit(mesh.get(hubKeys.kit(kit.source, q)))
    if (!k) continue
    const cur = decodeTpl(mesh.get(keys.tpl(q)))
    if (cur && cur.repo === undefined) continue
    if (!cur || refresh) await mesh.put(keys.tpl(q), encodeTpl({ ...k.tpl, repo: kit.source, commit: k.commit }))
    queue.push(...k.tpl.members, ...k.tpl.groups)
  }
  return kit.def.path
}
