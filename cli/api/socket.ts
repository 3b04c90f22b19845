// Taking the control socket path at start-up: a leftover socket file of a dead daemon is removed;
// a live one (something accepts connections) means another daemon runs, and we refuse to start.
import { lstat, unlink } from 'node:fs/promises'
import { connect } from 'node:net'
import { SOCKET_PROBE_TIMEOUT_MS } from './defaults.js'
import { DaemonRunningError, SocketPathError } from './errors.js'

/**
 * Makes `path` free for listening. Throws DaemonRunningError if something answers on it, and
 * SocketPathError if it exists but is not a socket (never deletes other files).
 */
export async function claimSocketPath (path: string, probeTimeoutMs = SOCKET_PROBE_TIMEOUT_MS): Promise<void> {
  let isSocket: boolean
  try {
    isSocket = (await lstat(path)).isSocket()
  } catch (e) {
    if (errno(e) === 'ENOENT') return
    throw new SocketPathError(path, `cannot inspect the control socket ${path}: ${(e as Error).message}`, { cause: e })
  }
  if (!isSocket) throw new SocketPathError(path, `${path} exists and is not a socket; refusing to replace it`)
  const state = await probe(path, probeTimeoutMs)
  if (state === 'live') throw new DaemonRunningError(path)
  if (state === 'gone') return
  try {
    await unlink(path)
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw new SocketPathError(path, `cannot remove the stale control socket ${path}: ${(e as Error).message}`, { cause: e })
  }
}

/** live: something accepted a connection (or kept us waiting); stale: refused; gone: vanished meanwhile. */
function probe (path: string, timeoutMs: number): Promise<'live' | 'stale' | 'gone'> {
  return new Promise(resolve => {
    const sock = connect(path)
    const done = (state: 'live' | 'stale' | 'gone'): void => {
      clearTimeout(timer)
      sock.destroy()
      resolve(state)
    }
    const timer = setTimeout(() => done('live'), timeoutMs)
    sock.once('connect', () => done('live'))
    sock.once('error', e => done(errno(e) === 'ENOENT' ? 'gone' : errno(e) === 'ECONNREFUSED' ? 'stale' : 'live'))
  })
}

function errno (e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code
}
