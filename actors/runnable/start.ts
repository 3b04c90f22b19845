// The start pipeline of the runnable actor's `start` effect: evaluate the variables and the
// container fields (Arrow), render `files` into the instance directory, then replace and start each
// container with its hooks. Also the two other things that need evaluated values: one readiness
// attempt and the published services. Nothing here waits on time: `decide` schedules.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { compile, renderTemplate, toPlain, toS, truthy, type ArrowValue } from '../../grammar/arrow/index.js'
import type { FileDecl } from '../../grammar/monkscript/runnable-spec.js'
import type { Value } from '../../grammar/monkscript/index.js'
import { missingRequired, resolveEnv, type ScopeVars } from '../../grammar/monkscript/variables.js'
import { ensureSecretsDir } from '../runtime/docker-secrets.js'
import { containerSpec } from '../runtime/spec.js'
import { LABEL_CONTAINER, LABEL_INSTANCE, LABEL_PEER } from '../runtime/runtime.js'
import { SecretError, secretScope } from '../secrets.js'
import { keys, type StatusRecord, type WantRecord } from '../state.js'
import { runHook } from './actions.js'
import { evaluateFields, evaluateValue } from './evaluate.js'
import type { InstanceContext, Template } from './context.js'
import { filePath, instanceDir, secretFilesDir, within } from './dirs.js'
import { RunnableError } from './errors.js'
import { runnableHost } from './host.js'
import { LOOPBACK, bindings, checkReplica, dockerMappings, probePorts, type Binding } from './ports.js'
import { containerFiles, instanceVolumeDir, linkMounts, noteMounts, resolveVolumes, type VolumeRow } from './volumes.js'

/** Progress of a start, for status (`waiting`): e.g. `image busybox:1`. */
export type Progress = (waiting: string) => void

/** Runs the start pipeline; resolves with the volumes it mounted, or throws a RunnableError. */
export async function startContainers (ctx: InstanceContext, want: WantRecord, signal: AbortSignal, progress: Progress, opts: { replace?: boolean } = {}): Promise<VolumeRow[]> {
  const t = ctx.runnable(want)
  waitForGrants(ctx, t)
  const opened = new Set<string>()
  const vars = ctx.vars(want, t, runnableHost(ctx, t, opened))
  const missing = missingRequired(vars.scope)
  if (missing.length) throw new RunnableError('required-variable', `${ctx.instance}: required variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ha${missing.length > 1 ? 've' : 's'} no value (set with --set ${missing[0]}=...)`)
  // A service node (spec §2.9) has no containers: its variables, services and actions are all it has.
  if (t.spec.containers.length === 0 && t.tpl.kind !== 'service') throw new RunnableError('no-containers', `${want.template} has no containers`)
  const warn = (field: string, message: string): void => { ctx.d.log.warn({ instance: ctx.instance, field }, `${ctx.instance}: ${field}: ${message}`) }
  // Host ports first: a clash fails the start before anything is created.
  const binds = await serviceBindings(ctx, t, vars, warn)
  checkReplica(ctx.instance, ctx.d.peerId, binds, ctx.d.scan)
  ctx.d.ports?.claim(ctx.instance, binds)
  const env = await resolveEnv(vars)
  const rootOf = (container: string): string => join(instanceDir(ctx.d.home, ctx.instance), 'files', container)
  const files = await renderFiles(t, vars, rootOf)
  const rt = ctx.d.runtime
  const volumes = await resolveVolumes(t.spec.volumes, vars, instanceVolumeDir(ctx.d.home, ctx.instance), evaluateValue as (v: unknown, vars: ScopeVars) => Promise<unknown>, warn)
  const volumeHosts = Object.fromEntries([...volumes].map(([k, v]) => [k, v.host]))
  const all = await vars.all()
  const existing = await ctx.containers()
  for (const c of existing) if (!t.spec.containers.some(x => ctx.nameOf(x.name) === c.name)) await ctx.removeContainers([c])
  for (const decl of t.spec.containers) {
    if (signal.aborted) return [...volumes.values()]
    const fields = await evaluateFields(decl.fields, vars)
    const environment = Array.isArray(fields.environment) ? fields.environment : []
    const built = containerSpec(fields, { instance: ctx.instance, container: decl.name, peer: ctx.d.peerId, name: ctx.nameOf(decl.name) }, { volumes: volumeHosts })
    const spec = built.spec
    if (rt.kind === 'docker') {
      const maps = dockerMappings(binds, decl.name).filter(m => !spec.ports.some(p => p.containerPort === m.containerPort && p.protocol === m.protocol))
      if (maps.length) { spec.ports.push(...maps); spec.network = 'bridge' }
      // the overlay's endpoints listen on the peer's loopback, which a bridge container does not share
      const conns = Object.keys(t.spec.connections)
      if (spec.network === 'bridge' && conns.length && rt.endpointHost === undefined) warn(`containers.${decl.name}`, `runs on a bridge network (it maps ports), so it cannot reach the local endpoints of its connections (${conns.join(', ')}) on 127.0.0.1; run it on the host network (no host-port different from port), or start monkd with --network-name NAME (endpoints then listen on that network's gateway), to use them`)
      const own = binds.filter(b => b.container === decl.name && b.host !== undefined)
      if (spec.network === 'bridge' && own.length) warn(`containers.${decl.name}`, `runs on a bridge network (its ports field maps ports), so services ${own.map(b => b.service).join(', ')} are not reached on the instance's own address ${own[0]!.host!}; run it on the host network to use connections to them`)
    }
    for (const n of built.notes) ctx.d.log.warn({ instance: ctx.instance, container: decl.name, field: n.field }, `${ctx.instance}/${decl.name}: ${n.field} ${n.reason}`)
    spec.env = { ...env, ...spec.env, MONK_ROOTFS: rt.kind === 'process' ? rootOf(decl.name) : '' }
    // where the workload listens for its unpublished services (ports.ts, isolation); the peer's loopback otherwise
    if (rt.kind === 'process' || spec.network === 'host') spec.env.MONK_SERVICE_HOST = binds.find(b => b.container === decl.name && b.host !== undefined)?.host ?? LOOPBACK
    for (const e of environment) if (typeof e === 'string' && e.includes('=')) spec.env[e.slice(0, e.indexOf('='))] = e.slice(e.indexOf('=') + 1)
    // a variable that carries a secret's value stays out of the engine's container config (runtime.ts secretEnv)
    if (rt.kind === 'docker' && opened.size > 0) {
      const secret = Object.entries(spec.env).filter(([, v]) => [...opened].some(x => v.includes(x)))
      if (secret.length > 0) {
        spec.secretEnv = Object.fromEntries(secret)
        for (const [k] of secret) delete spec.env[k]
      }
    }
    if (!spec.restart || spec.restart.name === 'no') spec.restart = fields.restart === undefined ? { name: 'always' } : spec.restart
    const own = containerFiles(fields.files, decl.name).map(f => ({
      container: decl.name, path: f.path, hostPath: filePath(rootOf(decl.name), f.path, `containers.${decl.name}.files`), mode: f.mode,
      contents: f.raw ? f.contents : renderTemplate(f.contents, name => all.get(name) ?? null),
    }))
    noteMounts(volumes, decl.name, spec.mounts, new Set())
    if (rt.kind === 'process') spec.mounts = linkMounts(rootOf(decl.name), spec.mounts, (field, message) => warn(`containers.${decl.name}.${field}`, message))
    for (const f of [...files.filter(f => f.container === decl.name), ...own]) {
      mkdirSync(dirname(f.hostPath), { recursive: true })
      // a link to a secret file of an earlier start, or the earlier file: replaced
      rmSync(f.hostPath, { force: true })
      let source = f.hostPath
      if ([...opened].some(x => x !== '' && f.contents.includes(x))) {
        // the file carries a secret's value: it is written to tmpfs only, and linked from the instance directory
        ensureSecretsDir()
        source = within(secretFilesDir(ctx.d.home, ctx.instance), relative(instanceDir(ctx.d.home, ctx.instance), f.hostPath), `files ${f.path}`, 'bad-file')
        mkdirSync(dirname(source), { recursive: true, mode: 0o700 })
        rmSync(source, { force: true })
        writeFileSync(source, f.contents, { mode: 0o600 })
        chmodSync(source, f.mode)
        symlinkSync(source, f.hostPath)
      } else {
        writeFileSync(f.hostPath, f.contents)
        chmodSync(f.hostPath, f.mode)
      }
      if (rt.kind === 'docker') spec.mounts.push({ hostPath: source, containerPath: f.path, readOnly: false })
    }
    spec.labels = { ...spec.labels, [LABEL_INSTANCE]: ctx.instance, [LABEL_CONTAINER]: decl.name, [LABEL_PEER]: ctx.d.peerId }
    // `update` replaces only containers whose spec (or files) changed; `restart` bumps `restarts` to replace all.
    const print = fingerprint(spec, [...files.filter(f => f.container === decl.name), ...own], want.restarts ?? 0, opened.size > 0 ? fingerprintKey(ctx.d.home) : undefined)
    // after a failed liveness check every container is replaced, changed or not
    const same = opts.replace === true ? undefined : existing.find(c => c.name === spec.name && c.running && c.labels[LABEL_FINGERPRINT] === print)
    if (same) { ctx.d.log.debug({ instance: ctx.instance, container: decl.name }, `${ctx.instance}/${decl.name} unchanged, kept (${same.id})`); continue }
    spec.labels[LABEL_FINGERPRINT] = print
    if (spec.image !== '') { progress(`image ${spec.image}`); await rt.ensureImage(spec.image) }
    if (signal.aborted) return [...volumes.values()]
    try { await rt.remove(spec.name, { force: true }) } catch { /* not there */ }
    await probePorts(ctx.instance, decl.name, binds)
    runHook(ctx, want, decl.hooks['container-starting'], 'container-starting')
    const c = await rt.create(spec)
    // secrets the engine could not keep out of its config (docker.ts): said, naming the instance
    for (const n of c.unsupported.filter(x => x.field.startsWith('environment'))) ctx.d.log.warn({ instance: ctx.instance, container: decl.name, field: n.field }, `${ctx.instance}/${decl.name}: ${n.field} ${n.reason}`)
    await rt.start(c.id)
    runHook(ctx, want, decl.hooks['container-started'], 'container-started')
  }
  return [...volumes.values()]
}

/**
 * Throws RunnableError('secret-wait') when a secret the runnable may read exists but this peer (a
 * worker) holds no grant of it yet (secret-keeper.ts): the start waits, saying so, instead of failing.
 */
function waitForGrants (ctx: InstanceContext, t: Template): void {
  for (const name of t.spec.permittedSecrets) {
    const scope = secretScope(k => ctx.d.get(k), t.spec.path, ctx.instance, name)
    if (scope === undefined) continue
    try {
      ctx.d.secrets.open(scope, name, ctx.d.get(keys.secret(scope, name)))
    } catch (err) {
      if (err instanceof SecretError && err.code === 'secret-no-grant') throw new RunnableError('secret-wait', err.message, { cause: err })
    }
  }
}

/** Label holding a digest of what a container was created from (its spec, files and restart count). */
export const LABEL_FINGERPRINT = 'monk.fingerprint'

/**
 * The digest in the label. When the spec carries secret values, it is an HMAC under a key of this
 * home (`fingerprint.key`, 0600): the label sits in the engine's container config on disk, and a plain
 * hash there would let anyone who reads that config test guesses of a password offline.
 */
export function fingerprint (spec: unknown, files: Array<Pick<RenderedFile, 'path' | 'mode' | 'contents'>>, restarts: number, key?: Buffer): string {
  const text = JSON.stringify({ spec, files: files.map(f => [f.path, f.mode, f.contents]), restarts })
  return (key === undefined ? createHash('sha256') : createHmac('sha256', key)).update(text).digest('hex').slice(0, 32)
}

/** The home's fingerprint key (32 random bytes, made at first use). */
export function fingerprintKey (home: string): Buffer {
  const file = join(home, 'fingerprint.key')
  try {
    const k = readFileSync(file)
    if (k.length === 32) return k
  } catch { /* none yet */ }
  const k = randomBytes(32)
  mkdirSync(home, { recursive: true, mode: 0o700 })
  writeFileSync(file, k, { mode: 0o600 })
  return k
}

/** One readiness attempt (spec §2.7.6); a script error counts as not ready. */
export async function checkReady (ctx: InstanceContext, want: WantRecord): Promise<{ ready: boolean, detail: string }> {
  const t = ctx.runnable(want)
  const r = t.spec.readiness
  if (r === null) return { ready: true, detail: '' }
  const vars = ctx.vars(want, t, runnableHost(ctx, t))
  try {
    let code = r.code
    // A `<-` code builds the check's code (spec §2.7.6).
    if (code.trimStart().startsWith('<-')) code = toS(await compile(code, 'value').run({ ...vars.ctx, vars }))
    const result = await compile(code, 'code').run({ ...vars.ctx, vars })
    const ready = truthy(result)
    return { ready, detail: ready ? '' : `the check gave ${resultText(result)}` }
  } catch (err) {
    ctx.d.log.debug({ instance: ctx.instance, err }, `readiness attempt of ${ctx.instance} failed`)
    return { ready: false, detail: `the check failed: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}` }
  }
}

/** A check's result in a few words: `false`, `nil`, `"text"` (cut at 80 characters). */
function resultText (v: ArrowValue): string {
  let text: string
  try { text = JSON.stringify(toPlain(v)) ?? 'nil' } catch { text = String(v) }
  if (text === 'null') text = 'nil'
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}

/** One liveness attempt (spec §2.7.6): alive when the code's result is truthy; a script error is not alive, with why. */
export async function checkLive (ctx: InstanceContext, want: WantRecord): Promise<{ alive: boolean, detail: string }> {
  const t = ctx.runnable(want)
  const l = t.spec.liveness
  if (l === null) return { alive: true, detail: '' }
  const vars = ctx.vars(want, t, runnableHost(ctx, t))
  try {
    let code = l.code
    if (code.trimStart().startsWith('<-')) code = toS(await compile(code, 'value').run({ ...vars.ctx, vars }))
    const ok = truthy(await compile(code, 'code').run({ ...vars.ctx, vars }))
    return { alive: ok, detail: ok ? '' : 'the check was false' }
  } catch (err) {
    return { alive: false, detail: err instanceof Error ? err.message.slice(0, 200) : String(err) }
  }
}

/** The host bindings of the instance's services (evaluated); see ports.ts. */
async function serviceBindings (ctx: InstanceContext, t: Template, vars: ScopeVars, warn: (field: string, message: string) => void): Promise<Binding[]> {
  return await bindings(t.spec.services, t.spec.containers[0]?.name ?? '', vars, evaluateValue as (v: unknown, vars: ScopeVars) => Promise<unknown>, ctx.d.runtime.kind, warn, ctx.instance)
}

/**
 * The services this instance publishes and where: a published one at the peer's cluster address,
 * an unpublished one on loopback (other peers reach it through the overlay), each on its host port.
 */
export async function services (ctx: InstanceContext, want: WantRecord): Promise<StatusRecord['services']> {
  const out: StatusRecord['services'] = {}
  const t = ctx.runnable(want)
  if (t.spec.services.length === 0) return out
  const vars = ctx.vars(want, t, runnableHost(ctx, t))
  const host = ctx.d.hostOf(ctx.d.peerId)
  for (const b of await serviceBindings(ctx, t, vars, () => {})) out[b.service] = { host: b.host ?? (b.publish ? host : LOOPBACK), port: b.hostPort, protocol: b.protocol, ...(b.publish ? { published: true } : {}) }
  // a `custom` service with a port (a data endpoint) is still reachable by its connections
  for (const s of t.spec.services) {
    if (s.name in out) continue
    const port = Number(await evaluateValue(s.hostPort ?? s.port, vars))
    // `address`: a service that lives outside containers says where it is (spec §2.7.3)
    const address = s.address !== undefined ? await evaluateValue(s.address, vars) : null
    const at = typeof address === 'string' && address !== '' ? address : host
    if (Number.isInteger(port) && port > 0) out[s.name] = { host: at, port }
  }
  return out
}

interface RenderedFile { container: string, path: string, hostPath: string, contents: string, mode: number }

async function renderFiles (t: Template, vars: ScopeVars, rootOf: (container: string) => string): Promise<RenderedFile[]> {
  if (t.spec.files.length === 0) return []
  const out: RenderedFile[] = []
  const all = await vars.all()
  for (const f of t.spec.files) {
    const hostPath = fileHostPath(rootOf(f.container), f)
    let contents = toS(await evaluateValue(f.contents, vars) as ArrowValue)
    if (!f.raw) contents = renderTemplate(contents, name => all.get(name) ?? null)
    out.push({ container: f.container, path: f.path, hostPath, contents, mode: f.mode })
  }
  return out
}

function fileHostPath (rootfs: string, f: FileDecl): string {
  if (!f.container || f.container.includes('/') || f.container === '.' || f.container === '..') throw new RunnableError('bad-file', `files.${f.id}.container ${JSON.stringify(f.container)} is not a container name`)
  return filePath(rootfs, f.path, f.id)
}
