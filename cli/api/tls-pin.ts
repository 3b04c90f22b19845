// The CLI's side of TLS to a remote monkd: trust on first use. The certificate's SHA-256
// fingerprint is pinned in `<cli home>/known-monkds` (one `host:port sha256-fingerprint` a line,
// mode 0600) the first time; later a different certificate is refused before anything (the token)
// is sent. The chain and the name are not checked: monkd's certificate is self-signed (cert.ts).
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import type { Duplex } from 'node:stream'
import type { CreateConnection } from './client.js'
import { isIP } from 'node:net'
import { dirname } from 'node:path'
import { connect, type TLSSocket } from 'node:tls'

export const KNOWN_MONKDS = 'known-monkds'

export interface PinOptions {
  /** The known-hosts style file. */
  readonly file: string
  /** Told once when a new fingerprint is pinned (the CLI prints it on stderr). */
  readonly onPin?: (text: string) => void
}

/** A refused certificate: code `cert-changed`, the message names the file to edit. */
export class CertChangedError extends Error {
  readonly code = 'cert-changed'
}

/** `host:port` as written in the file (IPv6 in brackets). */
export function pinKey (host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}

/** The pinned fingerprint of `key`, if any. */
export function pinnedFingerprint (file: string, key: string): string | undefined {
  if (!existsSync(file)) return undefined
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [k, fp] = line.trim().split(/\s+/)
    if (k === key && fp !== undefined && !line.trim().startsWith('#')) return fp.toUpperCase()
  }
  return undefined
}

/**
 * Opens a TLS connection to host:port and checks its certificate against the pin (pinning it when
 * there is none). Resolves with the socket once the handshake is done and the certificate accepted.
 */
export function connectPinned (host: string, port: number, pin: PinOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(isIP(host) === 0 ? { servername: host } : {}) })
    socket.once('error', reject)
    socket.once('secureConnect', () => {
      socket.off('error', reject)
      try {
        check(socket, host, port, pin)
        resolve(socket)
      } catch (e) {
        socket.destroy()
        reject(e)
      }
    })
  })
}

function check (socket: TLSSocket, host: string, port: number, pin: PinOptions): void {
  const fingerprint = socket.getPeerCertificate().fingerprint256?.toUpperCase()
  const key = pinKey(host, port)
  if (fingerprint === undefined || fingerprint === '') throw new CertChangedError(`monkd at ${key} showed no certificate`)
  const pinned = pinnedFingerprint(pin.file, key)
  if (pinned === undefined) {
    mkdirSync(dirname(pin.file), { recursive: true, mode: 0o700 })
    appendFileSync(pin.file, `${key} ${fingerprint}\n`, { mode: 0o600 })
    chmodSync(pin.file, 0o600)
    pin.onPin?.(`monk: pinned monkd at ${key}: certificate SHA-256 ${fingerprint} (in ${pin.file}); compare it with what monkd printed at start or with 'monk cluster info' on that machine`)
    return
  }
  if (pinned !== fingerprint) {
    throw new CertChangedError(`monkd at ${key} shows a different certificate than the one pinned: SHA-256 ${fingerprint}, pinned ${pinned}. ` +
      `Someone may be in the middle, or monkd made a new certificate. If you trust the new one, remove the line for ${key} from ${pin.file}`)
  }
}

/** For http.request's createConnection: a pinned TLS socket, handed over through the callback. */
export function pinnedConnection (host: string, port: number, pin: PinOptions): CreateConnection {
  return (_opts, cb) => {
    // node's callback takes (err) alone on failure, though its type wants a socket too
    connectPinned(host, port, pin).then(s => { cb(null, s) }, (e: Error) => { cb(e, undefined as unknown as Duplex) })
    return undefined
  }
}
