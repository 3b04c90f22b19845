// The web UI on the control API's listeners (`monk gui`): GET /ui/ serves the page and its files
// (no data in them: open without the token), GET /v1/gui/state the snapshot (gui-state.ts) and
// GET /v1/gui/events the live feed (gui-feed.ts) as server-sent events; both need the bearer
// token like the rest of the API. The page sends the token in the Authorization header (fetch),
// never in a URL: `monk gui` hands it over in the URL fragment, which browsers do not send.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { uiAsset } from './gui-assets.js'
import type { GuiFeed, Stamped } from './gui-feed.js'
import { guiState, type StateSource } from './gui-state.js'

export const UI_PATH = '/ui/'
export const GUI_STATE_PATH = '/v1/gui/state'
export const GUI_EVENTS_PATH = '/v1/gui/events'
/** A comment line on idle event streams, so proxies and the browser keep them open. */
const KEEPALIVE_MS = 15_000

/** The page may load only its own files and talk only to its own origin. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

export interface GuiServer {
  /** The server's `extra` hook (server.ts): answers the UI's paths, leaves the rest to the API. */
  handle: (req: IncomingMessage, res: ServerResponse, ctx: { readonly authorised: boolean }) => boolean
  /** Ends open event streams (before the API server closes). */
  close: () => void
}

export function guiServer (opts: { feed: GuiFeed, state: StateSource, onError?: (err: unknown) => void }): GuiServer {
  const open = new Set<ServerResponse>()

  function json (res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', ...SECURITY_HEADERS, 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  function refuse (res: ServerResponse): void {
    res.setHeader('www-authenticate', 'Bearer')
    json(res, 401, { error: { code: 'unauthorized', message: 'the web UI API needs header Authorization: Bearer <token>' } })
  }

  function events (req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...SECURITY_HEADERS, connection: 'keep-alive' })
    const send = (e: Stamped): void => { res.write(`id: ${e.seq}\nevent: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`) }
    const { events: history, running } = opts.feed.recent()
    res.write(`event: hello\ndata: ${JSON.stringify({ history, running })}\n\n`)
    const off = opts.feed.subscribe(send)
    const alive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS)
    alive.unref()
    open.add(res)
    const stop = (): void => { off(); clearInterval(alive); open.delete(res) }
    req.once('close', stop)
    res.once('close', stop)
  }

  return {
    handle (req, res, ctx) {
      const path = (req.url ?? '/').split('?')[0]!
      if (path === '/' || path === '/ui') {
        res.writeHead(302, { location: UI_PATH, ...SECURITY_HEADERS }).end()
        return true
      }
      if (path.startsWith(UI_PATH)) {
        if (req.method !== 'GET' && req.method !== 'HEAD') { json(res, 405, { error: { code: 'method-not-allowed', message: 'the web UI files answer GET' } }); return true }
        let rel: string
        try { rel = decodeURIComponent(path.slice(UI_PATH.length)) } catch { rel = '\0' }
        const asset = uiAsset(rel)
        if (asset === undefined) { json(res, 404, { error: { code: 'not-found', message: `no UI file ${path}` } }); return true }
        res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, ...SECURITY_HEADERS })
        res.end(req.method === 'HEAD' ? undefined : asset.body)
        return true
      }
      if (path !== GUI_STATE_PATH && path !== GUI_EVENTS_PATH) return false
      if (!ctx.authorised) { refuse(res); return true }
      if (req.method !== 'GET') { json(res, 405, { error: { code: 'method-not-allowed', message: `${path} answers GET` } }); return true }
      if (path === GUI_EVENTS_PATH) { events(req, res); return true }
      guiState(opts.state).then(s => json(res, 200, s), (err: unknown) => {
        opts.onError?.(err)
        json(res, 500, { error: { code: 'internal', message: `the dashboard state could not be read: ${(err as Error).message}` } })
      })
      return true
    },
    close () {
      for (const res of open) res.end()
      open.clear()
    },
  }
}
