// Where the CLI finds monkd: `--socket`, else $MONK_SOCKET, else <home>/monkd.sock. An address is
// `unix:///path` (or a plain path), `tcp://host:port` or `tls://host:port`; TCP to an address
// beyond loopback is always TLS (monkd serves only TLS there; the client pins the certificate,
// api/tls-pin.ts), loopback stays plain unless tls:// asks for it. A TCP address needs the daemon's bearer
// token, read from $MONK_API_TOKEN or the file named by `--token-file` / $MONK_API_TOKEN_FILE,
// never from the command line (where `ps` would show it).
import { readFileSync, statSync } from 'node:fs'
import { CliError, exitCodes } from './output.js'

export type Address =
  | { readonly kind: 'unix', readonly path: string, readonly text: string }
  | { readonly kind: 'tcp', readonly host: string, readonly port: number, readonly text: string, readonly tls: boolean }

export function parseAddress (spec: string): Address {
  const s = spec.trim()
  if (s.startsWith('unix://')) {
    const path = s.slice('unix://'.length)
    if (!path.startsWith('/')) throw new CliError('bad-flag', `--socket unix:// wants an absolute path (unix:///run/monkd.sock), got "${spec}"`, exitCodes.usage)
    return { kind: 'unix', path, text: path }
  }
  const scheme = /^(tcp|tls):\/\//.exec(s)?.[1]
  if (scheme !== undefined) {
    let u: URL
    try { u = new URL(`http://${s.slice(`${scheme}://`.length)}`) } catch { throw new CliError('bad-flag', `--socket ${scheme}:// wants host:port, got "${spec}"`, exitCodes.usage) }
    const port = Number(u.port)
    if (u.port === '' || !Number.isInteger(port) || port <= 0 || (u.pathname !== '/' && u.pathname !== '')) throw new CliError('bad-flag', `--socket ${scheme}:// wants host:port, got "${spec}"`, exitCodes.usage)
    const host = u.hostname.replace(/^\[|\]$/g, '')
    return { kind: 'tcp', host, port, text: `${scheme}://${u.host}`, tls: scheme === 'tls' || !isLoopbackHost(host) }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) throw new CliError('bad-flag', `--socket takes unix:///path or tcp://host:port (or tls://host:port), got "${spec}"`, exitCodes.usage)
  if (s === '') throw new CliError('bad-flag', '--socket is empty', exitCodes.usage)
  return { kind: 'unix', path: s, text: s }
}

/** 127.0.0.0/8, ::1 and localhost: where the control API may speak plain TCP. */
export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host)
}

/** The bearer token for a TCP address: $MONK_API_TOKEN, else the token file (its first line). */
export function apiToken (tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const direct = env.MONK_API_TOKEN
  if (direct !== undefined && direct !== '') return direct
  const file = tokenFile ?? env.MONK_API_TOKEN_FILE
  if (file === undefined || file === '') throw new CliError('no-token', 'a tcp:// address needs monkd\'s API token: put it in $MONK_API_TOKEN, or in a file named by --token-file or $MONK_API_TOKEN_FILE (never on the command line)', exitCodes.usage)
  let text: string
  try {
    // a token file others can read is as good as published: say so, like ssh does for keys
    if ((statSync(file).mode & 0o077) !== 0) process.stderr.write(`monk: warning: ${file} is readable by others; chmod 600 it\n`)
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new CliError('no-token', `cannot read the API token file ${file}: ${(e as Error).message}`, exitCodes.usage)
  }
  const token = text.split('\n')[0]?.trim() ?? ''
  if (token === '') throw new CliError('no-token', `the API token file ${file} is empty`, exitCodes.usage)
  return token
}
