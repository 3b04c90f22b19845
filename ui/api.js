// The page's side of the control API: the token (from the URL fragment #token=..., kept in this
// tab's sessionStorage, never put in a URL the server sees), JSON requests, NDJSON streams
// (logs) and the server-sent event feed, all with the token in the Authorization header.
const KEY = 'monk-api-token'

/** Takes #token=... out of the address bar into sessionStorage; returns the token in use, if any. */
export function takeToken () {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash)
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]))
    history.replaceState(null, '', location.pathname + location.search)
  }
  return sessionStorage.getItem(KEY) || ''
}

export function setToken (t) { sessionStorage.setItem(KEY, t) }
export function forgetToken () { sessionStorage.removeItem(KEY) }

const auth = () => ({ authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}` })

export class ApiError extends Error {
  constructor (status, body) {
    super(body?.error?.message || `HTTP ${status}`)
    this.status = status
    this.code = body?.error?.code
  }
}

const actorUrl = path => '/v1/actors/' + path.split('/').map(encodeURIComponent).join('/')

/** One message to one actor (`peer`, `runnable/ns/app`); resolves with the reply. */
export async function ask (path, message) {
  const res = await fetch(actorUrl(path), { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(message) })
  const body = await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, body)
  return body
}

export async function getJson (url) {
  const res = await fetch(url, { headers: auth() })
  const body = await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, body)
  return body
}

/** Reads a response body line by line (NDJSON, SSE); `onLine` gets each line without its newline. */
async function lines (res, onLine) {
  const reader = res.body.getReader()
  const dec = new TextDecoder()
  let buf = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buf += dec.decode(value, { stream: true })
    let i
    while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1) }
  }
}

/** A streamed reply: `onItem` per item; resolves when the stream ends, rejects on its error frame. */
export async function stream (path, message, onItem, signal) {
  const res = await fetch(actorUrl(path), { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(message), signal })
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null))
  let failure
  await lines(res, line => {
    if (line === '') return
    const f = JSON.parse(line)
    if ('item' in f) onItem(f.item)
    else if ('error' in f) failure = new ApiError(500, f)
  })
  if (failure) throw failure
}

/** The live feed: `onEvent(kind, data)` per server-sent event until the signal aborts or the connection ends. */
export async function events (onEvent, signal) {
  const res = await fetch('/v1/gui/events', { headers: { ...auth(), accept: 'text/event-stream' }, signal })
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null))
  let kind = 'message'
  let data = ''
  await lines(res, line => {
    if (line === '') { if (data !== '') onEvent(kind, JSON.parse(data)); kind = 'message'; data = ''; return }
    if (line.startsWith(':')) return
    if (line.startsWith('event: ')) kind = line.slice(7)
    else if (line.startsWith('data: ')) data += line.slice(6)
  })
}
