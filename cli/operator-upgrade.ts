// monkd's side of `monk shell`, `monk exec -it` and `monk port-forward`: an upgraded control API
// connection (api/protocol.ts SESSION_PREFIX, FORWARD_PREFIX) handed to the peer's operator
// streams (actors/cluster/sessions.ts), which find the instance's owner now. A request that cannot
// start is answered with a JSON error as any request; an accepted one with 101, then its bytes.
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Logger } from '../actors/kit/index.js'
import type { OperatorRequest, OperatorStreams } from '../actors/cluster/sessions.js'
import { parseStart, SessionError } from '../actors/cluster/session-wire.js'
import { FORWARD_PREFIX, SESSION_PREFIX, UPGRADE_PROTOCOL } from './api/protocol.js'

export function operatorUpgrade (operator: OperatorStreams, log: Logger) {
  return (req: IncomingMessage, socket: Socket): void => {
    const answer = (status: number, code: string, message: string): void => {
      const body = JSON.stringify({ error: { code, message } })
      socket.end(`HTTP/1.1 ${status} Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
    }
    let r: OperatorRequest
    try {
      r = requestOf(req.url ?? '/')
    } catch (err) {
      const e = err as SessionError
      answer(e.status ?? 400, e.code ?? 'invalid-body', e.message)
      return
    }
    void (async () => {
      let opened
      try {
        opened = await operator.open(r)
      } catch (err) {
        const e = err as { code?: string, status?: number, message?: string }
        answer(e.status ?? (e.code === 'not-found' ? 404 : 422), e.code ?? 'internal', e.message ?? String(err))
        return
      }
      if (socket.destroyed) return
      socket.setNoDelay(true)
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${UPGRADE_PROTOCOL}\r\nconnection: Upgrade\r\nx-monk-peer: ${opened.peer}\r\n\r\n`)
      try {
        await opened.run(socket)
      } catch (err) {
        log.warn({ err }, `${r.kind} in ${r.instance} ended with an error`)
      } finally {
        socket.destroySoon()
      }
    })()
  }
}

/** The request an upgrade URL asks for, or a SessionError naming what is wrong. */
export function requestOf (url: string): OperatorRequest {
  const u = new URL(url, 'http://monkd')
  const target = (prefix: string): string => {
    const raw = u.pathname.slice(prefix.length)
    let p: string
    try { p = raw.split('/').map(decodeURIComponent).join('/') } catch { throw new SessionError('not-found', `malformed instance path ${raw}`, 404) }
    if (p === '' || !p.includes('/')) throw new SessionError('not-found', `"${p}" is not an instance path like ns/name`, 404)
    return p
  }
  if (u.pathname.startsWith(SESSION_PREFIX)) {
    let start: unknown
    try { start = JSON.parse(u.searchParams.get('start') ?? '') } catch { throw new SessionError('invalid-body', 'start: JSON {cmd, tty, cols, rows}', 400) }
    return { kind: 'session', instance: target(SESSION_PREFIX), start: parseStart(start) }
  }
  if (u.pathname.startsWith(FORWARD_PREFIX)) {
    const port = Number(u.searchParams.get('port'))
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SessionError('invalid-body', 'port: 1 to 65535', 400)
    return { kind: 'forward', instance: target(FORWARD_PREFIX), port }
  }
  throw new SessionError('not-found', `no stream endpoint ${u.pathname}: use ${SESSION_PREFIX}<instance> or ${FORWARD_PREFIX}<instance>`, 404)
}
