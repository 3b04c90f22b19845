// The CLI's side of the control API's upgraded streams (protocol.ts SESSION_PREFIX,
// FORWARD_PREFIX): a GET with `Upgrade: monk-stream`; a 101 hands over the socket, any other
// answer is the daemon's JSON error (not-found, not-placed, unauthorized, ...).
import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { STREAM_OPEN_TIMEOUT_MS } from './defaults.js'
import { ApiConnectionError, ApiRequestError, ApiTimeoutError, DaemonDownError } from './errors.js'
import { UPGRADE_PROTOCOL } from './protocol.js'
import type { CreateConnection } from './client.js'

/** Where the daemon listens: its unix socket, or host and port with the bearer token. */
export type UpgradeTarget = { socketPath: string } | { host: string, port: number, token: string, connect?: CreateConnection }

export interface Upgraded {
  socket: Socket
  /** The peer that runs the instance (x-monk-peer). */
  peer: string
}

export async function openUpgrade (target: UpgradeTarget, urlPath: string, timeoutMs = STREAM_OPEN_TIMEOUT_MS): Promise<Upgraded> {
  const address = 'socketPath' in target ? target.socketPath : `tcp://${target.host}:${target.port}`
  const req = httpRequest({
    ...('socketPath' in target ? { socketPath: target.socketPath, agent: false } : { host: target.host, port: target.port, ...(target.connect ? { createConnection: target.connect } : { agent: false }) }),
    path: urlPath,
    method: 'GET',
    headers: { connection: 'Upgrade', upgrade: UPGRADE_PROTOCOL, ...('token' in target ? { authorization: `Bearer ${target.token}` } : {}) },
  })
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; req.destroy() }, timeoutMs)
  try {
    return await new Promise<Upgraded>((resolve, reject) => {
      req.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        if (head.length) socket.unshift(head)
        socket.setNoDelay(true)
        resolve({ socket, peer: String(res.headers['x-monk-peer'] ?? '') })
      })
      req.once('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.once('end', () => {
          let error: { code?: string, message?: string } | undefined
          try { error = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string, message?: string } }).error } catch { /* not JSON */ }
          reject(new ApiRequestError(error?.code ?? 'protocol', res.statusCode ?? 0, error?.message ?? `monkd answered ${res.statusCode ?? 0} to an upgrade`))
        })
      })
      req.once('error', (e: NodeJS.ErrnoException) => {
        if (timedOut) reject(new ApiTimeoutError('opening a stream', timeoutMs))
        else if (e.code === 'cert-changed') reject(e)
        else if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new DaemonDownError(address, { cause: e }))
        else reject(new ApiConnectionError(address, { cause: e }))
      })
      req.end()
    })
  } finally {
    clearTimeout(timer)
  }
}
