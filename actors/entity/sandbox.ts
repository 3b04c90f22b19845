// The entity sandbox: a fresh QuickJS (wasm, asyncified build) context per invocation, never the
// daemon's own JavaScript context. The guest sees host modules as blocking calls: each host
// function is an asyncified import, so the wasm stack suspends while the daemon awaits the answer.
// Every invocation has a memory limit and a CPU deadline (guest time only; host waits do not count).
import { newQuickJSAsyncWASMModule, type QuickJSAsyncContext, type QuickJSAsyncRuntime } from 'quickjs-emscripten'
import { CPU_DEADLINE_MS, MEMORY_LIMIT_BYTES, STACK_LIMIT_BYTES, WALL_DEADLINE_MS } from './defaults.js'
import { EntityError } from './errors.js'

/** One host function: JSON-able arguments in, a JSON-able answer (or a thrown Error) out. */
export type HostFn = (...args: unknown[]) => unknown
/** A host module: its functions by name (`http.get`, `secret.get`...). */
export type HostModule = Readonly<Record<string, HostFn>>

export interface SandboxLimits {
  /** Guest heap in bytes. */
  memoryBytes?: number
  /** Guest compute time in ms; time spent in host calls is not counted. */
  cpuMs?: number
  /** Wall time in ms, host calls included. */
  wallMs?: number
}

export interface Invocation {
  /** The classic script; it defines a global `main(definition, state, ctx)`. */
  script: string
  /** Where the script comes from, for stack traces (`ns/type lifecycle`). */
  file: string
  /** Built-in host modules by require name (`cli`, `cloud/aws`); each is also a global named after its last segment. */
  host: Readonly<Record<string, HostModule>>
  /** The source of a `defines: module` node (CommonJS), looked up lazily by require name. */
  moduleSource: (name: string) => string | undefined
  /** The three arguments of main. */
  definition: unknown
  state: unknown
  ctx: unknown
  limits?: SandboxLimits
  /** Make a fresh wasm module and runtime instead of reusing an idle one (to measure start-up). */
  cold?: boolean
}

export interface InvocationResult {
  /** What main returned (undefined: keep the old state). */
  value: unknown
  /** Time to get a runtime (reused unless `cold`), make the context and install the host modules, ms. */
  startupMs: number
  /** Time the guest spent computing (host waits excluded), ms. */
  cpuMs: number
}

// Our guest-side prelude: builds modules, require, and the globals over the one host import.
const PRELUDE = `(function (spec) {
  var call = globalThis.__monk_host; delete globalThis.__monk_host;
  function fail (e) { var err = new Error(e.m); if (e.n) err.name = e.n; throw err }
  function make (mod, fns) {
    var o = {};
    fns.forEach(function (f) { o[f] = function () { var r = JSON.parse(call(mod, f, JSON.stringify(Array.prototype.slice.call(arguments)))); if (r.e) fail(r.e); return r.v } });
    return o;
  }
  var builtins = {};
  Object.keys(spec).forEach(function (m) { builtins[m] = make(m, spec[m]) });
  var cache = {};
  function require (name) {
    if (Object.prototype.hasOwnProperty.call(builtins, name) && name.charAt(0) !== '$') return builtins[name];
    if (cache[name]) return cache[name].exports;
    var src = builtins.$modules.source(name);
    var module = { exports: {} };
    cache[name] = module;
    (new Function('module', 'exports', 'require', src))(module, module.exports, require);
    return module.exports;
  }
  globalThis.require = require;
  Object.keys(builtins).forEach(function (m) { if (m.charAt(0) !== '$') { var g = m.split('/').pop(); if (!(g in globalThis)) globalThis[g] = builtins[m] } });
  var g = builtins.$globals;
  globalThis.sleep = g.sleep; globalThis.btoa = g.btoa; globalThis.atob = g.atob;
  function line (level) { return function () { g.log(level, Array.prototype.map.call(arguments, function (a) { return typeof a === 'string' ? a : JSON.stringify(a) }).join(' ')) } }
  globalThis.console = { log: line('log'), info: line('info'), warn: line('warn'), error: line('error'), debug: line('debug') };
})`

const CALL_MAIN = `(function () {
  if (typeof main !== 'function') throw new Error('__monk_no_main');
  var r = main(JSON.parse(__monk_args[0]), JSON.parse(__monk_args[1]), JSON.parse(__monk_args[2]));
  return r === undefined ? undefined : JSON.stringify(r);
})()`

// Guest runtimes kept for reuse. Each is its own wasm module (asyncify allows one suspended call
// per module), used by one invocation at a time; every invocation gets a fresh context in it, so
// no global of one invocation is seen by the next. A runtime whose guest was interrupted or ran
// out of memory is disposed, never reused.
const idle: QuickJSAsyncRuntime[] = []
/** Idle runtimes kept at most (one per concurrent invocation seen, up to this). */
const IDLE_MAX = 4

async function takeRuntime (): Promise<QuickJSAsyncRuntime> {
  return idle.pop() ?? (await newQuickJSAsyncWASMModule()).newRuntime()
}

function giveBack (rt: QuickJSAsyncRuntime, healthy: boolean): void {
  if (healthy && idle.length < IDLE_MAX) { rt.setInterruptHandler(() => false); idle.push(rt) } else drop(rt)
}

/**
 * Frees a runtime and its wasm module. quickjs-emscripten 0.32's asyncify build unregisters the
 * runtime's callbacks before freeing it, so a host function freed by that last collection throws
 * "QuickJSRuntime not found when trying to free HostRef"; the module is thrown away with the
 * runtime (one module per runtime here), so nothing is left half-freed that is used again.
 */
function drop (rt: QuickJSAsyncRuntime): void {
  try { rt.dispose() } catch { /* see above */ }
}

/** Disposes the idle runtimes (a daemon that stops, a benchmark measuring cold starts). */
export function dropIdleRuntimes (): void {
  for (const rt of idle.splice(0)) drop(rt)
}

/** What the guest threw, as a message: Error objects and plain strings alike. */
function thrownMessage (v: unknown): { name: string, message: string } {
  if (typeof v === 'string') return { name: 'string', message: v }
  if (v !== null && typeof v === 'object') {
    const o = v as { name?: unknown, message?: unknown }
    return { name: typeof o.name === 'string' ? o.name : 'Error', message: typeof o.message === 'string' ? o.message : JSON.stringify(v) }
  }
  return { name: 'value', message: String(v) }
}

/**
 * Runs `main(definition, state, ctx)` of one lifecycle script in a fresh guest and disposes it.
 * Throws EntityError: `entity-timeout` (CPU deadline), `entity-memory`, `entity-no-main`,
 * `entity-failed` (the script threw; the message is the thrown one).
 */
export async function invoke (inv: Invocation): Promise<InvocationResult> {
  const t0 = performance.now()
  const cpuLimit = inv.limits?.cpuMs ?? CPU_DEADLINE_MS
  const wallLimit = inv.limits?.wallMs ?? WALL_DEADLINE_MS
  let hostMs = 0
  let hostSince: number | null = null
  let started = 0
  const guestMs = (): number => performance.now() - started - hostMs - (hostSince === null ? 0 : performance.now() - hostSince)
  let timedOut: 'cpu' | 'wall' | null = null
  const rt = inv.cold === true ? (await newQuickJSAsyncWASMModule()).newRuntime() : await takeRuntime()
  rt.setMemoryLimit(inv.limits?.memoryBytes ?? MEMORY_LIMIT_BYTES)
  rt.setMaxStackSize(STACK_LIMIT_BYTES)
  const vm: QuickJSAsyncContext = rt.newContext()
  let healthy = false
  try {
    const host: Record<string, HostModule> = {
      ...inv.host,
      $modules: {
        source: (name: unknown) => {
          const src = typeof name === 'string' ? inv.moduleSource(name) : undefined
          if (src === undefined) throw new EntityError('entity-module', `require("${String(name)}"): no such module (neither a built-in nor a loaded defines: module node)`)
          return src
        },
      },
    }
    const spec = Object.fromEntries(Object.entries(host).map(([m, fns]) => [m, Object.keys(fns)]))
    const fn = vm.newAsyncifiedFunction('__monk_host', async (mh, fh, ah) => {
      const mod = vm.getString(mh)
      const name = vm.getString(fh)
      const args = JSON.parse(vm.getString(ah)) as unknown[]
      const f = host[mod]?.[name]
      hostSince = performance.now()
      try {
        if (!f) throw new EntityError('entity-module', `${mod}.${name} is not a function`)
        const v = await f(...args)
        return vm.newString(JSON.stringify(v === undefined ? {} : { v }))
      } catch (err) {
        const e = err instanceof Error ? { m: err.message, n: err.name } : { m: String(err) }
        return vm.newString(JSON.stringify({ e }))
      } finally {
        hostMs += performance.now() - (hostSince ?? performance.now())
        hostSince = null
      }
    })
    vm.setProp(vm.global, '__monk_host', fn)
    fn.dispose()
    const args = vm.newArray()
    ;[inv.definition, inv.state ?? {}, inv.ctx].forEach((a, i) => { const s = vm.newString(JSON.stringify(a ?? null)); vm.setProp(args, i, s); s.dispose() })
    vm.setProp(vm.global, '__monk_args', args)
    args.dispose()
    const pre = vm.unwrapResult(vm.evalCode(`${PRELUDE}(${JSON.stringify(spec)})`, 'monk:prelude'))
    pre.dispose()
    const startupMs = performance.now() - t0
    started = performance.now()
    rt.setInterruptHandler(() => {
      if (hostSince !== null) return false
      if (guestMs() > cpuLimit) { timedOut = 'cpu'; return true }
      if (performance.now() - started > wallLimit) { timedOut = 'wall'; return true }
      return false
    })
    const loaded = await vm.evalCodeAsync(inv.script, inv.file)
    if (loaded.error) throw fromGuest(vm, loaded.error, inv.file, timedOut, cpuLimit)
    loaded.value.dispose()
    const r = await vm.evalCodeAsync(CALL_MAIN, `${inv.file} main`)
    if (r.error) throw fromGuest(vm, r.error, inv.file, timedOut, cpuLimit)
    const out = vm.dump(r.value) as unknown
    r.value.dispose()
    healthy = true
    return { value: typeof out === 'string' ? JSON.parse(out) : undefined, startupMs, cpuMs: guestMs() }
  } catch (err) {
    // a lifecycle that threw leaves a sound runtime; limits and host failures do not
    healthy = err instanceof EntityError && (err.code === 'entity-failed' || err.code === 'entity-no-main')
    throw err
  } finally {
    vm.dispose()
    giveBack(rt, healthy)
  }
}

function fromGuest (vm: QuickJSAsyncContext, h: { dispose: () => void }, file: string, timedOut: 'cpu' | 'wall' | null, cpuLimit: number): EntityError {
  const v = vm.dump(h as never) as unknown
  h.dispose()
  const { name, message } = thrownMessage(v)
  if (timedOut === 'cpu' || (name === 'InternalError' && message === 'interrupted' && timedOut === null)) return new EntityError('entity-timeout', `${file}: the lifecycle ran past its CPU deadline of ${cpuLimit} ms and was interrupted (an endless loop?)`)
  if (timedOut === 'wall') return new EntityError('entity-timeout', `${file}: the lifecycle ran past its wall-clock deadline and was interrupted`)
  if (name === 'InternalError' && message === 'out of memory') return new EntityError('entity-memory', `${file}: the lifecycle ran out of its memory limit and was stopped`)
  if (name === 'InternalError' && /stack overflow/.test(message)) return new EntityError('entity-memory', `${file}: the lifecycle overflowed its stack (${message})`)
  if (message === '__monk_no_main') return new EntityError('entity-no-main', `${file}: the script defines no function main(definition, state, ctx)`)
  return new EntityError('entity-failed', message)
}
