// The monk dashboard: one page, preact + htm (shipped in vendor/, no build step for the page's
// own code). State comes from GET /v1/gui/state, fetched again only when the live feed says
// something changed; logs and actions go through the control API as the CLI's do.
import { h, render } from './vendor/preact.mjs'
import { useCallback, useEffect, useRef, useState } from './vendor/hooks.mjs'
import htm from './vendor/htm.mjs'
import { ApiError, events, forgetToken, getJson, setToken, takeToken } from './api.js'
import { Actions, EventList, Logs, Peers, Running, Templates, Workloads } from './views.js'

const html = htm.bind(h)

function Login ({ onToken, error }) {
  const [value, setValue] = useState('')
  const submit = e => { e.preventDefault(); if (value.trim() !== '') onToken(value.trim()) }
  return html`<main class="login">
    <h1>monk</h1>
    <p>Enter the API token monkd was started with (MONK_API_TOKEN). It stays in this tab only.</p>
    ${error && html`<p class="error" data-testid="login-error">${error}</p>`}
    <form onSubmit=${submit}>
      <input type="password" autocomplete="off" placeholder="API token" value=${value} onInput=${e => setValue(e.target.value)} data-testid="token-input" />
      <button type="submit">Open</button>
    </form>
  </main>`
}

/** The last state snapshot, re-read (coalesced) whenever `poke` is called. */
function useSnapshot (token, onAuthFail) {
  const [state, setState] = useState(null)
  const [error, setError] = useState(null)
  const busy = useRef(false)
  const again = useRef(false)
  const poke = useCallback(async () => {
    if (busy.current) { again.current = true; return }
    busy.current = true
    try {
      do {
        again.current = false
        try { setState(await getJson('/v1/gui/state')); setError(null) } catch (e) {
          if (e instanceof ApiError && e.status === 401) { onAuthFail(e.message); return }
          setError(e.message)
        }
      } while (again.current)
    } finally { busy.current = false }
  }, [token])
  return { state, error, poke }
}

function Dashboard ({ token, onAuthFail }) {
  const { state, error, poke } = useSnapshot(token, onAuthFail)
  const [feed, setFeed] = useState({ live: false, history: [], running: [] })
  const [selected, setSelected] = useState(null)
  const [templatesRev, setTemplatesRev] = useState(0)

  useEffect(() => {
    const ctl = new AbortController()
    let timer
    const refresh = () => { clearTimeout(timer); timer = setTimeout(poke, 150) }
    const onEvent = (kind, data) => {
      if (kind === 'hello') { setFeed({ live: true, history: data.history, running: data.running }); poke(); return }
      if (kind === 'templates') { setTemplatesRev(r => r + 1); return }
      setFeed(f => {
        const history = ['peer-down', 'peer-up', 'peer-joined', 'failover', 'moved', 'action'].includes(kind) || (kind === 'state' && data.state === 'failed') ? [...f.history, data].slice(-200) : f.history
        let running = f.running
        if (kind === 'action') running = data.phase === 'running' ? [...running, data] : running.filter(a => a.id !== data.id)
        return { ...f, history, running }
      })
      if (kind !== 'action') refresh()
    }
    const connect = async () => {
      while (!ctl.signal.aborted) {
        try { await events(onEvent, ctl.signal) } catch (e) {
          if (e instanceof ApiError && e.status === 401) { onAuthFail(e.message); return }
        }
        if (ctl.signal.aborted) return
        setFeed(f => ({ ...f, live: false }))
        await new Promise(resolve => setTimeout(resolve, 2000))
      }
    }
    connect()
    return () => { ctl.abort(); clearTimeout(timer) }
  }, [token])

  const instances = (state?.workloads ?? []).flatMap(g => g.runnables)
  const current = instances.find(i => i.instance === selected) ?? null
  return html`<div class="page">
    <header>
      <h1>monk</h1>
      <span class="muted">${state ? html`peer <b>${state.self.name}</b> · cluster ${state.self.clusterId.slice(0, 12)}` : 'connecting…'}</span>
      <span class=${'live ' + (feed.live ? 'on' : 'off')} data-testid="live">${feed.live ? 'live' : 'reconnecting'}</span>
    </header>
    ${error && html`<p class="error">${error}</p>`}
    <main class="grid">
      <${Peers} peers=${state?.peers ?? []} />
      <${Workloads} groups=${state?.workloads ?? []} selected=${selected} onSelect=${setSelected} />
      <${Logs} instance=${current} />
      <${Actions} instance=${current} />
      <${Running} running=${feed.running} />
      <${EventList} events=${feed.history} />
      <${Templates} rev=${templatesRev} />
    </main>
  </div>`
}

function App () {
  const [token, setTok] = useState(() => takeToken())
  const [authError, setAuthError] = useState(null)
  // a link with a new #token= opened in this tab (no reload happens for a fragment)
  useEffect(() => {
    const onHash = () => { const t = takeToken(); if (t !== '') { setAuthError(null); setTok(t) } }
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [])
  const onToken = t => { setToken(t); setAuthError(null); setTok(t) }
  const onAuthFail = msg => { forgetToken(); setAuthError(`The token was refused: ${msg}`); setTok('') }
  if (token === '') return html`<${Login} onToken=${onToken} error=${authError} />`
  return html`<${Dashboard} token=${token} onAuthFail=${onAuthFail} />`
}

const root = document.getElementById('app')
root.textContent = ''
render(html`<${App} />`, root)
