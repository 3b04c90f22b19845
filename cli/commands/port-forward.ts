// `monk port-forward PATH [LOCAL:]REMOTE`: a local port on 127.0.0.1 whose connections reach the
// instance's port REMOTE on whichever peer runs it. Each connection is its own upgraded control API
// stream (api/upgrade-client.ts), and monkd finds the owner anew for each one, so after a failover
// the next connection reaches the new owner while this command keeps its port.
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import type { Command } from 'commander'
import { FORWARD_PREFIX } from '../api/protocol.js'
import { CliError, exitCodes } from '../output.js'
import { requirePath, runnableActor, session, type Session } from './session.js'

/** `8080` or `9000:8080` → local (0: any free port) and remote ports. */
export function parsePorts (spec: string): { local: number, remote: number } {
  const m = /^(?:(\d+):)?(\d+)$/.exec(spec.trim())
  const ok = (n: number, zero: boolean): boolean => Number.isInteger(n) && n <= 65535 && (zero ? n >= 0 : n >= 1)
  if (!m) throw new CliError('bad-input', `"${spec}" is not [LOCAL:]REMOTE, e.g. 8080 or 9000:8080`, exitCodes.usage)
  const remote = Number(m[2])
  const local = m[1] !== undefined ? Number(m[1]) : remote
  if (!ok(remote, false) || !ok(local, true)) throw new CliError('bad-input', `"${spec}": ports are 1 to 65535 (LOCAL may be 0: any free port)`, exitCodes.usage)
  return { local, remote }
}

export function forwardUrl (path: string, port: number): string {
  return `${FORWARD_PREFIX}${path.split('/').map(encodeURIComponent).join('/')}?port=${port}`
}

/** Carries one local connection to the instance; a failure closes it and says why on stderr. */
async function carry (s: Session, path: string, remote: number, client: Socket): Promise<void> {
  client.on('error', () => {})
  client.pause()
  let up: Socket
  try {
    up = (await s.upgrade(forwardUrl(path, remote))).socket
  } catch (e) {
    s.note(`monk: port-forward: ${(e as Error).message}`)
    client.destroy()
    return
  }
  up.on('error', () => { client.destroy() })
  client.on('error', () => { up.destroy() })
  client.pipe(up)
  up.pipe(client)
  client.resume()
}

/** The action of `monk port-forward` (its flags are in registry.ts). */
export async function portForward (path: string, ports: string, opts: { address: string }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const p = requirePath(path)
  const { local, remote } = parsePorts(ports)
  // a wrong path fails now, not at the first connection
  await s.request(runnableActor(p), { type: 'runnable.describe' })
  const server = createServer({ allowHalfOpen: true, noDelay: true }, client => { void carry(s, p, remote, client) })
  server.listen(local, opts.address)
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => { throw e as Error })])
  } catch (e) {
    throw new CliError('bad-input', `cannot listen on ${opts.address}:${local}: ${(e as Error).message}`, exitCodes.failure)
  }
  const a = server.address()
  const port = typeof a === 'object' && a !== null ? a.port : local
  process.stdout.write(`Forwarding from ${opts.address}:${port} to ${p} port ${remote}\n`)
  s.note('Each connection goes to the peer that runs it at that moment. Ctrl-C stops.')
  await new Promise<void>(resolve => {
    const stop = (): void => { server.close(); resolve() }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
