// The secrets handler: values are sealed (actors/secrets.ts) before they reach the replica and
// are never read back out through the API.
import type { Mesh } from '../../mesh/mesh.js'
import type { Handlers } from '../messages/index.js'
import { checkScope, encodeSealed, SecretError, type SecretSealer } from '../secrets.js'
import { keys } from '../state.js'

export function secretHandlers (mesh: Mesh, box: SecretSealer): Handlers<'secrets'> {
  return {
    'secrets.add': async m => {
      const s = checkScope(m.scope)
      // a cluster founded a moment ago: its first operator makes the data key once synced
      await box.ready?.(5000)
      await mesh.put(keys.secret(s, m.name), encodeSealed(box.seal(s, m.name, m.value)))
      return { scope: s, name: m.name }
    },
    'secrets.rm': async m => {
      const s = checkScope(m.scope)
      if (mesh.get(keys.secret(s, m.name)) === undefined) throw new SecretError('secret-not-found', `no secret "${m.name}" in ${s}`)
      await mesh.delete(keys.secret(s, m.name))
      return { scope: s, name: m.name }
    },
    'secrets.list': m => {
      const s = m.scope === undefined ? undefined : checkScope(m.scope)
      return Promise.resolve(mesh.scan('secret/').map(e => {
        const rest = e.key.slice('secret/'.length)
        const i = rest.lastIndexOf('/')
        return { scope: rest.slice(0, i), name: rest.slice(i + 1) }
      }).filter(x => s === undefined || x.scope === s))
    },
  }
}
