// `monk gui`: where the web dashboard is. monkd serves it on its API port (`--api-port`, token in
// MONK_API_TOKEN); this prints http://127.0.0.1:PORT/ui/ with the token in the URL fragment when
// the CLI has it (a fragment never reaches a server or its logs), and opens it with xdg-open when
// there is one and a display.
import { spawn, spawnSync } from 'node:child_process'
import type { Command } from 'commander'
import { apiToken, parseAddress } from '../address.js'
import { CliError, printJson } from '../output.js'
import { session } from './session.js'

function canOpen (): boolean {
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false
  return spawnSync('sh', ['-c', 'command -v xdg-open'], { stdio: 'ignore' }).status === 0
}

/** The action of `monk gui` (its flags are in registry.ts). */
export async function gui (opts: { open?: boolean }, cmd: Command): Promise<void> {
  const s = session(cmd)
  const info = await s.ping()
  const address = s.g.socket !== undefined ? parseAddress(s.g.socket) : undefined
  let base: string
  const hostPart = (h: string): string => h.includes(':') ? `[${h}]` : h
  // beyond loopback monkd serves the API (and the page) over TLS with its own certificate: the
  // browser asks to trust it; compare its fingerprint with the one noted here
  const fingerprint = typeof info.apiTlsFingerprint === 'string' ? info.apiTlsFingerprint : undefined
  if (address?.kind === 'tcp') base = `${address.tls ? 'https' : 'http'}://${hostPart(address.host)}:${address.port}`
  else if (typeof info.apiPort === 'number' && info.apiPort > 0) {
    const host = typeof info.apiHost === 'string' && info.apiHost !== '0.0.0.0' && info.apiHost !== '::' ? info.apiHost : '127.0.0.1'
    base = `${fingerprint !== undefined ? 'https' : 'http'}://${hostPart(host)}:${info.apiPort}`
  }
  else throw new CliError('no-gui', 'monkd serves the dashboard on its API port, and this one has none: restart it with one, e.g. MONK_API_TOKEN=$(cat token-file) monk daemon start --api-port 44004')
  const url = `${base}/ui/`
  let token: string | undefined
  try { token = apiToken(s.g.tokenFile) } catch { token = undefined }
  const full = token === undefined ? url : `${url}#token=${encodeURIComponent(token)}`
  if (s.json) { printJson({ url, token: token !== undefined }); return }
  if (opts.open !== false && canOpen()) {
    spawn('xdg-open', [full], { stdio: 'ignore', detached: true }).unref()
    s.print(`opened ${url}`)
    return
  }
  s.print(full)
  if (base.startsWith('https:') && fingerprint !== undefined) s.note(`monkd's certificate is its own (self-signed): the browser asks before trusting it; its SHA-256 is ${fingerprint}`)
  if (token === undefined) s.note('The page asks for the API token (the MONK_API_TOKEN monkd runs with); set MONK_API_TOKEN or --token-file here to put it in the link.')
  else s.note('The token is in the link\'s #fragment: the browser keeps it, no server or log sees it. Do not share the link.')
}
