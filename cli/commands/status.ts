// `monk status` (daemon, peer and cluster at a glance) and `monk version` (CLI and daemon versions).
import type { Command } from 'commander'
import { version as cliVersion } from '../monk.js'
import { printJson } from '../output.js'
import { VERSION_PING_TIMEOUT_MS } from './defaults.js'
import { session } from './session.js'

/** The action of `monk status` (its flags are in registry.ts). */
export async function status (_opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  const st = await s.request('peer', { type: 'peer.status' })
  if (s.json) { printJson(st); return }
  const { stringify } = await import('yaml')
  s.print(`daemon: ready (${s.socket})\n${stringify(st, { lineWidth: 0 })}`)
}

/** The action of `monk version` (its flags are in registry.ts). */
export async function version (_opts: unknown, cmd: Command): Promise<void> {
  const s = session(cmd)
  let daemon: string | null = null
  try {
    const info = await s.ping({ timeoutMs: VERSION_PING_TIMEOUT_MS })
    daemon = typeof info.version === 'string' ? info.version : 'unknown'
  } catch { daemon = null }
  if (s.json) { printJson({ cli: cliVersion, daemon }); return }
  s.print(`monk ${cliVersion}\nmonkd ${daemon ?? 'not running'}`)
}
