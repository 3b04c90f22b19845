// The dashboard's panels. Each takes plain data (the /v1/gui/state snapshot, feed events) and
// asks the control API itself only for what is its own: a workload's logs and actions, templates.
import { h } from './vendor/preact.mjs'
import { useEffect, useRef, useState } from './vendor/hooks.mjs'
import htm from './vendor/htm.mjs'
import { ask, stream } from './api.js'

const html = htm.bind(h)
const pct = x => x === null || x === undefined ? '–' : `${Math.round(x * 100)}%`
const time = iso => iso ? iso.slice(11, 19) : ''

function Panel ({ title, id, children, wide }) {
  return html`<section class=${'panel' + (wide ? ' wide' : '')} id=${id} data-testid=${id}><h2>${title}</h2>${children}</section>`
}

export function Peers ({ peers }) {
  return html`<${Panel} title=${`Peers (${peers.filter(p => p.health === 'alive').length}/${peers.length} alive)`} id="peers">
    <ul class="cards">${peers.map(p => html`<li class="card" data-testid="peer" data-peer=${p.name} data-health=${p.health}>
      <div class="row"><b>${p.name}</b>${p.self ? html` <span class="muted">(this peer)</span>` : ''}<span class=${'badge ' + p.health}>${p.health}</span></div>
      <div class="muted small">${p.id.slice(0, 16)}… · ${p.runtime || 'runtime ?'}${p.provider ? ` · ${p.provider} ${p.region ?? ''}` : ' · no cloud provider'}</div>
      <div class="tags">${p.tags.map(t => html`<span class="tag">${t}</span>`)}</div>
      <div class="small">load: ${p.load.instances} instance${p.load.instances === 1 ? '' : 's'} · cpu ${pct(p.load.cpu)} · memory ${pct(p.load.memory)}</div>
    </li>`)}</ul>
  </${Panel}>`
}

export function Workloads ({ groups, selected, onSelect }) {
  return html`<${Panel} title="Workloads" id="workloads" wide>
    ${groups.length === 0 && html`<p class="muted">Nothing runs. Load a kit and run it: monk load kit.yaml && monk run ns/name</p>`}
    <ul class="tree">${groups.map(g => html`<li data-testid="group" data-path=${g.path}><span class="group">${g.path}</span>
      <ul>${g.runnables.map(r => html`<li data-testid="instance" data-instance=${r.instance} data-status=${r.status} data-peer=${r.peerName}>
        <button class=${'link' + (selected === r.instance ? ' selected' : '')} onClick=${() => onSelect(r.instance)}>${r.instance}</button>
        <span class=${'badge ' + r.status}>${r.status}</span>
        <span class="muted small"> on ${r.peerName || '–'}</span>
        ${r.ports.length > 0 && html`<span class="small"> · ports ${r.ports.map(p => `${p.service} ${p.host}:${p.port}`).join(', ')}</span>`}
        ${r.volumes.length > 0 && html`<span class="small"> · volumes ${r.volumes.map(v => `${v.name} ${v.host}`).join(', ')}</span>`}
        ${r.waiting && html`<div class="small muted">waiting: ${r.waiting}</div>`}
        ${r.error && html`<div class="small error">${r.error}</div>`}
        ${r.entity && html`<div class="small">entity ${r.entity.type}: ${r.entity.ready ? 'ready' : 'not ready'}</div>`}
        <ul>${r.containers.map(c => html`<li class="small" data-testid="container">${c.name}: ${c.status} <span class="muted">(${c.image})</span></li>`)}</ul>
      </li>`)}</ul>
    </li>`)}</ul>
  </${Panel}>`
}

export function Logs ({ instance }) {
  const [lines, setLines] = useState([])
  const [note, setNote] = useState('')
  const box = useRef(null)
  const key = instance ? `${instance.instance}@${instance.peer}` : ''
  useEffect(() => {
    setLines([])
    if (!instance) return
    const ctl = new AbortController()
    const follow = async () => {
      while (!ctl.signal.aborted) {
        setNote('following')
        try {
          await stream(`runnable/${instance.instance}`, { type: 'runnable.logs', follow: true, tail: 100 }, item => {
            setLines(ls => [...ls, item].slice(-500))
          }, ctl.signal)
        } catch (e) { if (!ctl.signal.aborted) setNote(`stream ended: ${e.message}; retrying`) }
        await new Promise(resolve => setTimeout(resolve, 2000))
      }
    }
    follow()
    return () => ctl.abort()
  }, [key])
  useEffect(() => { if (box.current) box.current.scrollTop = box.current.scrollHeight }, [lines])
  return html`<${Panel} title=${instance ? `Logs of ${instance.instance}` : 'Logs'} id="logs" wide>
    ${instance ? html`<div class="muted small">${note} · on ${instance.peerName}</div>
      <pre class="logs" ref=${box} data-testid="log-lines">${lines.map(l => `${time(l.time)} ${l.container} ${l.text}\n`).join('')}</pre>`
      : html`<p class="muted">Select a workload to follow its logs.</p>`}
  </${Panel}>`
}

export function Actions ({ instance }) {
  const [list, setList] = useState([])
  const [values, setValues] = useState({})
  const [result, setResult] = useState(null)
  const name = instance?.instance ?? ''
  useEffect(() => {
    setList([]); setResult(null); setValues({})
    if (name === '') return
    ask(`runnable/${name}`, { type: 'runnable.actions' }).then(setList, e => setResult({ error: e.message }))
  }, [name])
  const run = async a => {
    const args = {}
    for (const k of Object.keys(a.arguments)) { const v = values[`${a.name}.${k}`]; if (v !== undefined && v !== '') args[k] = v }
    setResult({ running: a.name })
    try {
      const r = await ask(`runnable/${name}`, { type: 'runnable.action', action: a.name, args })
      setResult({ action: a.name, output: typeof r.output === 'string' ? r.output : JSON.stringify(r.output, null, 2) })
    } catch (e) { setResult({ action: a.name, error: e.message }) }
  }
  return html`<${Panel} title="Actions" id="actions">
    ${name === '' && html`<p class="muted">Select a workload to see its actions.</p>`}
    ${name !== '' && list.length === 0 && html`<p class="muted">${name} has no actions.</p>`}
    ${list.map(a => html`<form class="action" data-testid="action" data-action=${a.name} onSubmit=${e => { e.preventDefault(); run(a) }}>
      <b>${a.name}</b> <span class="muted small">${a.description}</span>
      ${Object.entries(a.arguments).map(([k, d]) => html`<label class="small">${k} <span class="muted">(${d.type ?? 'string'})</span>
        <input name=${k} data-testid=${`arg-${k}`} placeholder=${d.default !== undefined ? String(d.default) : ''} value=${values[`${a.name}.${k}`] ?? ''} onInput=${e => setValues(v => ({ ...v, [`${a.name}.${k}`]: e.target.value }))} /></label>`)}
      <button type="submit" data-testid=${`run-${a.name}`}>Run</button>
    </form>`)}
    ${result && html`<div class="result" data-testid="action-result">${result.running ? `running ${result.running}…` : result.error ? html`<span class="error">${result.action ?? ''} failed: ${result.error}</span>` : html`<b>${result.action}</b><pre>${result.output}</pre>`}</div>`}
  </${Panel}>`
}

export function Running ({ running }) {
  return html`<${Panel} title="Running actions" id="running">
    ${running.length === 0 ? html`<p class="muted">No action runs now.</p>` : html`<ul>${running.map(a => html`<li class="small" data-testid="running-action">${a.path.replace(/^(runnable|group)\//, '')} ${a.action} ${Object.entries(a.args).map(([k, v]) => `${k}=${v}`).join(' ')} ${a.via ? html` <span class="muted">via ${a.via}</span>` : ''} <span class="muted">since ${time(a.time)}</span></li>`)}</ul>`}
  </${Panel}>`
}

function describeEvent (e) {
  switch (e.kind) {
    case 'peer-down': return `peer ${e.name} is down (${e.reason})`
    case 'peer-up': return `peer ${e.name} is up`
    case 'peer-joined': return `peer ${e.name} joined the cluster${e.tags.length ? ` (tags ${e.tags.join(', ')})` : ''}`
    case 'failover': return `failover: ${e.instance} moved from ${e.fromName} (down) to ${e.toName}`
    case 'moved': return `${e.instance} moved from ${e.fromName} to ${e.toName}`
    case 'state': return `${e.instance} ${e.state} on ${e.name}${e.error ? `: ${e.error}` : ''}`
    case 'action': return `action ${e.action} on ${e.path.replace(/^(runnable|group)\//, '')}: ${e.phase}${e.error ? ` (${e.error})` : ''}`
    default: return e.kind
  }
}

export function EventList ({ events }) {
  return html`<${Panel} title="Cluster events" id="events">
    ${events.length === 0 ? html`<p class="muted">No events since this peer started.</p>` : html`<ol class="events">${[...events].reverse().map(e => html`<li class=${'small ev-' + e.kind} data-testid="event" data-kind=${e.kind}><span class="muted">${time(e.time)}</span> ${describeEvent(e)}</li>`)}</ol>`}
  </${Panel}>`
}

export function Templates ({ rev }) {
  const [query, setQuery] = useState('')
  const [rows, setRows] = useState([])
  const [hubs, setHubs] = useState([])
  const [error, setError] = useState(null)
  useEffect(() => {
    const words = query.trim().split(/\s+/).filter(Boolean)
    const t = setTimeout(() => {
      const q = words.length ? ask('peer', { type: 'templates.search', words }) : ask('peer', { type: 'templates.list' })
      q.then(r => { setRows(r); setError(null) }, e => setError(e.message))
    }, 200)
    return () => clearTimeout(t)
  }, [query, rev])
  useEffect(() => { ask('peer', { type: 'hub.ls' }).then(setHubs, () => setHubs([])) }, [rev])
  return html`<${Panel} title="Templates and hub kits" id="templates" wide>
    <input type="search" placeholder="search templates (words)" value=${query} onInput=${e => setQuery(e.target.value)} data-testid="template-search" />
    ${error && html`<p class="error">${error}</p>`}
    <div class="small muted">hub sources: ${hubs.length === 0 ? 'none' : hubs.map(x => `${x.name} (${x.kits} kits, ${x.templates} templates${x.error ? `, error: ${x.error}` : ''})`).join(' · ')}</div>
    <table class="templates"><thead><tr><th>path</th><th>kind</th><th>source</th><th>description</th></tr></thead>
    <tbody>${rows.slice(0, 200).map(t => html`<tr data-testid="template" data-path=${t.path}><td>${t.path}</td><td>${t.kind}</td><td>${t.repo}</td><td class="muted">${t.description ?? ''}</td></tr>`)}</tbody></table>
    ${rows.length > 200 && html`<p class="muted small">${rows.length - 200} more: narrow the search.</p>`}
  </${Panel}>`
}
