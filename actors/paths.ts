// The one normaliser of the path forms a user or a script may give for a template or instance
// (spec §2.3): `/ns/name`, `ns/name/`, `templates/<repo>/ns/name`, `local/ns/name` → `ns/name`.

export function normalisePath (path: string): string {
  const p = path.trim().replace(/^\/+/, '').replace(/\/+$/, '')
  if (p.startsWith('templates/')) {
    const parts = p.split('/')
    return parts.length > 3 ? parts.slice(2).join('/') : p
  }
  if (p.startsWith('local/') && p.split('/').length > 2) return p.slice('local/'.length)
  return p
}
