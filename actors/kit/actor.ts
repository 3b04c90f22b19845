// Typed actors on nact: spawnActor / tell / stopActor. Every actor gets the kit's supervision
// (restart with backoff, logged; see supervision.ts), its init runs again on every restart, and
// asks waiting on an actor fail at once when it stops, and stopping an actor stops its subtree
// (record.ts: nact does not). Never nact's spawnStateless: it ignores onCrash.
import { createRequire } from 'node:module'
import { dispatch, spawn, type Ref } from 'nact'
import { ActorCrashedError, ActorSpawnError, ActorStoppedError } from '../errors.js'
import type { Scheduler, Timer } from './clock.js'
import { markStopped, stopTree, type ActorRecord } from './record.js'
import type { Logger } from './log.js'
import type { Message, ReplyTo } from './messages.js'
import { CrashCounter, defaultRestartPolicy, type CrashDecision, type OnCrash, type RestartPolicy } from './supervision.js'
import type { ActorSystem } from './system.js'

// nact does not export its registry of live actors; `dispatch` to a stopped actor is silently
// dropped, so the kit asks the registry itself to fail fast. nact is pinned (7.6.2, unmaintained).
const systemMap = createRequire(import.meta.url)('nact/lib/system-map.js') as {
  find: (systemName: string, ref: unknown) => unknown
}

declare const accepts: unique symbol

/** Address of an actor that accepts messages of type `Msg`. */
export class ActorRef<Msg> {
  // Contravariant phantom: an ActorRef<A | B> may be used where an ActorRef<A> is expected.
  declare private readonly [accepts]?: (msg: Msg) => void

  /** @internal use spawnActor() */
  constructor (
    readonly system: ActorSystem,
    /** The name given to spawnActor. */
    readonly name: string,
    /** Display path from the system root, e.g. `peer/group:ns/stack/runnable:ns/app`. */
    readonly path: string,
    /** @internal */
    readonly nact: Ref<unknown>,
    /** @internal */
    readonly record: ActorRecord
  ) {}

  toString (): string {
    return `actor ${this.path}`
  }
}

/** What a handler gets besides its state and message. */
export interface ActorContext<Msg> {
  readonly self: ActorRef<Msg>
  readonly system: ActorSystem
  readonly log: Logger
  readonly clock: Scheduler
  /** Sends `msg` to this actor after `ms` (system clock); cancelled if the actor stops first. */
  after: (ms: number, msg: Msg) => Timer
}

/** A pure step: the next state and the effects for the shell to perform, in order. */
export interface Decision<State, Effect> {
  readonly state: State
  readonly effects?: readonly Effect[]
}

interface SpecCommon<State, Msg> {
  /** Default: always restart. */
  readonly onCrash?: OnCrash<Msg>
  /** Overrides of the backoff (initial delay, factor, cap, jitter). */
  readonly restart?: Partial<RestartPolicy>
  /** Called once after the actor stopped for good (not on restarts). */
  readonly afterStop?: (state: State | undefined) => void
}

type InitSpec<State, Msg> =
  | { readonly initialState: State, readonly init?: never }
  /** Runs at spawn and again after every restart (children it spawns must be spawned here). */
  | { readonly init: (ctx: ActorContext<Msg>) => State | Promise<State>, readonly initialState?: never }

type HandlerSpec<State, Msg, Effect> =
  /** Handles one message and returns the next state. Throwing crashes the actor. */
  | { readonly handle: (state: State, msg: Msg, ctx: ActorContext<Msg>) => State | Promise<State>, readonly decide?: never, readonly perform?: never }
  /** Pure `decide`, effects performed in order by `perform` (a throw from either crashes the actor). */
  | {
    readonly decide: (state: State, msg: Msg) => Decision<State, Effect>
    readonly perform: (effect: Effect, ctx: ActorContext<Msg>, state: State) => void | Promise<void>
    readonly handle?: never
  }

export type ActorSpec<State, Msg extends Message, Effect = never> = SpecCommon<State, Msg> & InitSpec<State, Msg> & HandlerSpec<State, Msg, Effect>

/** Internal wake-up message: runs init after spawn and after a restart if no message does it first. */
const INIT: unique symbol = Symbol('actor.init')

interface Cell<State> { ready: boolean, state: State | undefined }

/**
 * Spawns a child of `parent` (the system or another actor). Names are free text (`runnable:ns/app#0`)
 * and must be unique among siblings. Throws ActorSpawnError (`actor-exists`, `actor-name`) or
 * ActorStoppedError if the parent is stopped.
 */
export function spawnActor<State, Msg extends Message, Effect = never> (
  parent: ActorSystem | ActorRef<never>,
  name: string,
  spec: ActorSpec<State, Msg, Effect>
): ActorRef<Msg> {
  const system = parent instanceof ActorRef ? parent.system : parent
  const parentNact = parent instanceof ActorRef ? parent.nact : system.nactRoot
  const parentPath = parent instanceof ActorRef ? parent.path : ''
  const path = parentPath === '' ? name : `${parentPath}/${name}`
  if (name === '') throw new ActorSpawnError('actor-name', path, `cannot spawn an actor with an empty name under ${parentPath || system.name}`)
  if (system.stopped || systemMap.find(system.nactName, parentNact) === undefined) {
    throw new ActorStoppedError(parentPath || system.name, `spawn child ${name}`)
  }
  const nactName = encodeActorName(name)
  if (childExists(parentNact, nactName)) throw new ActorSpawnError('actor-exists', path, `cannot spawn ${path}: a sibling already has that name`)

  const parentRecord = parent instanceof ActorRef ? parent.record : system.root
  const policy: RestartPolicy = { ...defaultRestartPolicy, ...spec.restart }
  const counter = new CrashCounter(policy)
  // The ref and record are created after nact's spawn returns; handlers only run on a later tick.
  let self!: ActorRef<Msg>
  let record!: ActorRecord
  const ctx: ActorContext<Msg> = {
    get self () { return self },
    system,
    log: system.logger,
    clock: system.clock,
    after: (ms, msg) => {
      const timer: Timer = system.schedule(ms, () => {
        record.timers.delete(timer)
        tell(self, msg)
      })
      record.timers.add(timer)
      return timer
    },
  }

  const init = async (): Promise<State> => spec.init ? await spec.init(ctx) : spec.initialState as State
  const step = async (state: State, msg: Msg): Promise<State> => {
    if (spec.handle) return await spec.handle(state, msg, ctx)
    const { state: next, effects } = spec.decide!(state, msg)
    for (const effect of effects ?? []) await spec.perform!(effect, ctx, next)
    return next
  }

  const actorFn = async (cell: Cell<State>, msg: Msg | typeof INIT): Promise<Cell<State>> => {
    const state = cell.ready ? cell.state as State : await init()
    if (msg === INIT) return { ready: true, state }
    return { ready: true, state: await step(state, msg) }
  }

  const onCrash = async (msg: Msg | typeof INIT | undefined, error: unknown, nctx: SupervisionContext, child: unknown): Promise<symbol> => {
    if (child !== undefined) {
      // The kit never escalates; a raw nact child might. Keep this actor running.
      system.logger.error({ actor: path, err: error }, `actor ${path}: a child escalated a crash; ignoring`)
      return nctx.resume
    }
    const message = msg === INIT ? undefined : msg
    const type = message?.type ?? 'init'
    failWaitingRequest(message, path, type, error)
    const { crashes, delayMs } = counter.crashed(system.clock.now(), system.random())
    let decision: CrashDecision = 'restart'
    try {
      if (spec.onCrash) decision = spec.onCrash({ actor: path, error, message, crashes })
    } catch (policyError) {
      system.logger.error({ actor: path, err: policyError }, `actor ${path}: its onCrash threw; restarting`)
    }
    if (decision === 'stop') {
      system.logger.error({ actor: path, err: error, message: type, crashes }, `actor ${path} crashed handling ${type}: ${errorText(error)}; stopping it (its crash policy says stop)`)
      stopTree(record, system.pending, true)
      markStopped(record, system.pending)
      return nctx.stop
    }
    system.logger.warn(
      { actor: path, err: error, message: type, crashes, delayMs, decision },
      `actor ${path} crashed handling ${type}: ${errorText(error)}; ${decision === 'restart' ? 'restarting' : 'resuming'} in ${delayMs} ms (crash ${crashes} in a row)`
    )
    // The sleep is one of the actor's timers: if it stops meanwhile, nothing is left to wake.
    await new Promise<void>(resolve => {
      const timer = system.schedule(delayMs, () => { record.timers.delete(timer); resolve() })
      record.timers.add(timer)
    })
    if (!isAlive(self)) return nctx.resume // stopped meanwhile by its parent: resume is then a no-op
    // INIT re-runs init at once even if no message arrives (a no-op for a resumed, ready actor).
    dispatch(self.nact, INIT)
    if (decision === 'resume') return nctx.resume
    stopTree(record, system.pending, true) // nact's reset stops direct children only, not their subtrees
    system.logger.info({ actor: path, crashes }, `actor ${path} restarted`)
    return nctx.reset
  }

  const afterStop = (cell: Cell<State>): void => {
    markStopped(record, system.pending)
    try {
      spec.afterStop?.(cell?.ready === true ? cell.state : undefined)
    } catch (e) {
      system.logger.error({ actor: path, err: e }, `actor ${path}: afterStop threw`)
    }
  }

  let nactRef: Ref<unknown>
  try {
    nactRef = spawn(parentNact, actorFn, nactName, {
      initialStateFunc: () => ({ ready: false, state: undefined }),
      onCrash,
      afterStop,
    })
  } catch (e) {
    throw new ActorSpawnError('actor-name', path, `cannot spawn ${path}: ${errorText(e)}`, { cause: e })
  }
  record = { path, nact: nactRef, stopped: false, asks: new Set(), timers: new Set(), children: new Set(), parent: parentRecord }
  parentRecord.children.add(record)
  self = new ActorRef<Msg>(system, name, path, nactRef, record)
  dispatch(nactRef, INIT)
  return self
}

/** Sends `msg` to `ref` without waiting. Returns false (and delivers nothing) if the actor is stopped. */
export function tell<Msg> (ref: ActorRef<Msg>, msg: Msg): boolean {
  if (!isAlive(ref)) return false
  dispatch(ref.nact, msg)
  return true
}

/** Stops the actor and its subtree at once; asks still waiting on them fail with ActorStoppedError. */
export function stopActor (ref: ActorRef<never>): void {
  stopTree(ref.record, ref.system.pending)
}

/** True while the actor exists (spawned, not stopped, system running). */
export function isAlive (ref: ActorRef<never>): boolean {
  return !ref.record.stopped && !ref.system.stopped && systemMap.find(ref.system.nactName, ref.nact) !== undefined
}

/**
 * nact names allow only [a-z0-9-$_.+!*'(),]; monk names contain `:`, `/`, `#`. Every other byte
 * (and `$` itself) becomes `$XX` (UTF-8, hex), which is reversible and unique.
 */
export function encodeActorName (name: string): string {
  let out = ''
  for (const byte of new TextEncoder().encode(name)) {
    const ch = String.fromCharCode(byte)
    out += /[a-z0-9\-_.+!*'(),]/i.test(ch) && byte < 0x80 ? ch : `$${byte.toString(16).padStart(2, '0')}`
  }
  return out
}

// ---------------------------------------------------------------------------------------------

type SupervisionContext = { stop: symbol, resume: symbol, reset: symbol }

function childExists (parentNact: Ref<unknown>, nactName: string): boolean {
  const parent = systemMap.find(parentNact.system.name, parentNact) as { children?: Map<string, unknown> } | undefined
  return parent?.children?.has(nactName) === true
}

function failWaitingRequest (message: unknown, path: string, type: string, error: unknown): void {
  const replyTo = (message as { replyTo?: unknown } | undefined)?.replyTo
  if (typeof replyTo === 'function' && typeof (replyTo as Partial<ReplyTo<unknown>>).fail === 'function') {
    (replyTo as ReplyTo<unknown>).fail(new ActorCrashedError(path, type, { cause: error }))
  }
}

function errorText (e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
