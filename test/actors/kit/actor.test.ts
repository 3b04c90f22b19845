import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorCrashedError, ActorSpawnError, ActorStoppedError } from '../../../actors/errors.js'
import {
  ask, encodeActorName, isAlive, spawnActor, startSystem, stopActor, tell,
  type ActorRef, type ActorSystem, type ReplyTo,
} from '../../../actors/kit/index.js'
import { ManualScheduler } from '../../helpers/actors-clock.js'
import { captureLogger } from '../../helpers/actors-log.js'
import { settle, waitFor } from '../../helpers/actors-wait.js'

type CounterMsg =
  | { type: 'counter.add', n: number }
  | { type: 'counter.boom', why: string }
  | { type: 'counter.get', replyTo: ReplyTo<number> }

interface Harness { system: ActorSystem, clock: ManualScheduler, log: ReturnType<typeof captureLogger>, inits: number }

function harness (): Harness {
  const clock = new ManualScheduler()
  const log = captureLogger()
  return { system: startSystem('test', { clock, logger: log, random: () => 0 }), clock, log, inits: 0 }
}

function counter (h: Harness, parent: ActorSystem | ActorRef<never>, name = 'counter', extra: { onCrash?: () => 'restart' | 'resume' | 'stop' } = {}): ActorRef<CounterMsg> {
  return spawnActor<number, CounterMsg>(parent, name, {
    init: () => { h.inits++; return 0 },
    handle: (n, msg) => {
      switch (msg.type) {
        case 'counter.add': return n + msg.n
        case 'counter.boom': throw new Error(msg.why)
        case 'counter.get': msg.replyTo(n); return n
      }
    },
    restart: { initialDelayMs: 100, factor: 2, maxDelayMs: 10_000, jitter: 0 },
    ...(extra.onCrash ? { onCrash: extra.onCrash } : {}),
  })
}

const get = (ref: ActorRef<CounterMsg>): Promise<number> => ask(ref, replyTo => ({ type: 'counter.get', replyTo }), 60_000)

const Actor = suite('actor kit: actors')
let h: Harness
Actor.before.each(() => { h = harness() })
Actor.after.each(() => { h.system.stop() })

Actor('tell and ask: messages are handled in order with typed state', async () => {
  const c = counter(h, h.system)
  for (let i = 1; i <= 10; i++) assert.ok(tell(c, { type: 'counter.add', n: i }))
  assert.is(await get(c), 55)
  assert.is(h.inits, 1)
})

Actor('crash → restart after the backoff with fresh state, and a warn log line naming the actor and the reason', async () => {
  const consoleLog = console.log
  let printed = 0
  console.log = () => { printed++ }
  try {
    const c = counter(h, h.system)
    tell(c, { type: 'counter.add', n: 5 })
    tell(c, { type: 'counter.boom', why: 'disk on fire' })
    tell(c, { type: 'counter.add', n: 1 }) // queued behind the crash: handled after the restart
    await waitFor('the crash log line', () => h.log.entries.some(e => e.level === 'warn'))
    const line = h.log.entries.find(e => e.level === 'warn')!
    assert.is(line.fields['actor'], 'counter')
    assert.is(line.fields['message'], 'counter.boom')
    assert.is(line.fields['delayMs'], 100)
    assert.is(line.fields['crashes'], 1)
    assert.is((line.fields['err'] as Error).message, 'disk on fire')
    assert.match(line.msg, /counter crashed handling counter\.boom: disk on fire; restarting in 100 ms/)
    // During the backoff nothing is handled.
    await settle()
    assert.is(h.inits, 1)
    assert.equal(h.clock.timers(), [100])
    h.clock.advance(99)
    await settle()
    assert.is(h.inits, 1)
    h.clock.advance(1)
    assert.is(await get(c), 1, 'state restarted from init (0), then the queued add(1) ran')
    assert.is(h.inits, 2)
    assert.ok(h.log.entries.some(e => e.level === 'info' && /restarted/.test(e.msg)))
    assert.is(printed, 0, "nact's default policy (console.log + stop) must never run")
  } finally {
    console.log = consoleLog
  }
})

Actor('crashes in a row back off exponentially: 100, 200, 400 ms', async () => {
  const c = counter(h, h.system)
  const delays: unknown[] = []
  for (let i = 0; i < 3; i++) {
    tell(c, { type: 'counter.boom', why: `crash ${i}` })
    await waitFor(`crash ${i} logged`, () => h.log.entries.filter(e => e.level === 'warn').length === i + 1)
    delays.push(h.log.entries.filter(e => e.level === 'warn')[i]!.fields['delayMs'])
    h.clock.advance(delays[i] as number)
    await waitFor(`restart ${i}`, () => h.inits === i + 2)
  }
  assert.equal(delays, [100, 200, 400])
  assert.is(await get(c), 0)
})

Actor('a crash inside init is retried with backoff until init succeeds', async () => {
  let attempts = 0
  const a = spawnActor<string, { type: 'x.get', replyTo: ReplyTo<string> }>(h.system, 'flaky-init', {
    init: () => { if (++attempts < 3) throw new Error(`init attempt ${attempts} failed`); return 'ready' },
    handle: (s, m) => { m.replyTo(s); return s },
    restart: { initialDelayMs: 50, jitter: 0 },
  })
  await waitFor('first init crash', () => attempts === 1 && h.log.entries.some(e => e.level === 'warn'))
  assert.is(h.log.entries[0]!.fields['message'], 'init')
  h.clock.advance(50)
  await waitFor('second init crash', () => attempts === 2 && h.log.entries.filter(e => e.level === 'warn').length === 2)
  h.clock.advance(100)
  assert.is(await ask(a, replyTo => ({ type: 'x.get', replyTo }), 60_000), 'ready')
  assert.is(attempts, 3)
})

Actor('onCrash resume keeps the state and skips the message; stop stops it with an error log', async () => {
  const r = counter(h, h.system, 'resumer', { onCrash: () => 'resume' })
  tell(r, { type: 'counter.add', n: 7 })
  tell(r, { type: 'counter.boom', why: 'bad input' })
  await waitFor('crash logged', () => h.log.entries.some(e => e.level === 'warn'))
  h.clock.advance(100)
  assert.is(await get(r), 7)
  assert.is(h.inits, 1)

  const s = counter(h, h.system, 'stopper', { onCrash: () => 'stop' })
  tell(s, { type: 'counter.boom', why: 'fatal' })
  await waitFor('stopped', () => !isAlive(s))
  const line = h.log.entries.find(e => e.level === 'error')!
  assert.match(line.msg, /stopper crashed handling counter\.boom: fatal; stopping it/)
  assert.is(tell(s, { type: 'counter.add', n: 1 }), false)
})

Actor('an ask whose message crashes the actor fails at once with actor-crashed (no timeout)', async () => {
  type M = { type: 'q.ask', replyTo: ReplyTo<number> }
  const a = spawnActor<null, M>(h.system, 'crasher', { initialState: null, handle: () => { throw new Error('nope') } })
  const err = await ask(a, replyTo => ({ type: 'q.ask', replyTo }), 60_000).catch((e: unknown) => e)
  assert.instance(err, ActorCrashedError)
  assert.is((err as ActorCrashedError).code, 'actor-crashed')
  assert.match((err as Error).message, /crasher crashed while handling q\.ask: nope/)
})

Actor('a restart stops the children; init spawns them again', async () => {
  type ParentMsg = { type: 'parent.boom' } | { type: 'parent.child', replyTo: ReplyTo<ActorRef<CounterMsg>> }
  const parent = spawnActor<ActorRef<CounterMsg>, ParentMsg>(h.system, 'peer', {
    init: ctx => counter(h, ctx.self, 'group:ns/stack'),
    handle: (child, msg) => {
      if (msg.type === 'parent.boom') throw new Error('parent broke')
      msg.replyTo(child)
      return child
    },
    restart: { initialDelayMs: 10, jitter: 0 },
  })
  const first = await ask(parent, replyTo => ({ type: 'parent.child', replyTo }), 60_000)
  assert.is(first.path, 'peer/group:ns/stack')
  tell(first, { type: 'counter.add', n: 3 })
  assert.is(await get(first), 3)
  tell(parent, { type: 'parent.boom' })
  await waitFor('parent crash', () => h.log.entries.some(e => e.level === 'warn'))
  h.clock.advance(10)
  const second = await ask(parent, replyTo => ({ type: 'parent.child', replyTo }), 60_000)
  assert.not.ok(isAlive(first), 'the old child was stopped by the restart')
  assert.ok(isAlive(second))
  assert.is(await get(second), 0)
})

Actor('names may contain : / # and spaces; sibling names are unique; stopped parents spawn nothing', async () => {
  assert.is(encodeActorName('runnable:ns/app#0'), 'runnable$3ans$2fapp$230')
  assert.is(encodeActorName('a$b'), 'a$24b')
  assert.is.not(encodeActorName('a$b'), encodeActorName('a$24b'))
  const c = counter(h, h.system, 'runnable:ns/app#0 (x)')
  assert.is(c.name, 'runnable:ns/app#0 (x)')
  tell(c, { type: 'counter.add', n: 2 })
  assert.is(await get(c), 2)
  const dup = (() => { try { counter(h, h.system, 'runnable:ns/app#0 (x)'); return null } catch (e) { return e } })()
  assert.instance(dup, ActorSpawnError)
  assert.is((dup as ActorSpawnError).code, 'actor-exists')
  const empty = (() => { try { counter(h, h.system, ''); return null } catch (e) { return e } })()
  assert.is((empty as ActorSpawnError).code, 'actor-name')
  stopActor(c)
  const orphan = (() => { try { counter(h, c, 'child'); return null } catch (e) { return e } })()
  assert.instance(orphan, ActorStoppedError)
  assert.is((orphan as ActorStoppedError).code, 'actor-stopped')
})

Actor('decide/perform: pure decisions, effects performed in order by the shell', async () => {
  type M = { type: 'light.toggle' } | { type: 'light.get', replyTo: ReplyTo<boolean> }
  type E = { kind: 'switch', on: boolean } | { kind: 'reply', to: ReplyTo<boolean>, on: boolean }
  const performed: string[] = []
  const light = spawnActor<boolean, M, E>(h.system, 'light', {
    initialState: false,
    decide: (on, msg) => msg.type === 'light.toggle'
      ? { state: !on, effects: [{ kind: 'switch', on: !on }] }
      : { state: on, effects: [{ kind: 'reply', to: msg.replyTo, on }] },
    perform: async (e) => {
      if (e.kind === 'switch') { await Promise.resolve(); performed.push(`switch ${e.on ? 'on' : 'off'}`) } else e.to(e.on)
    },
  })
  tell(light, { type: 'light.toggle' })
  tell(light, { type: 'light.toggle' })
  tell(light, { type: 'light.toggle' })
  assert.is(await ask(light, replyTo => ({ type: 'light.get', replyTo }), 60_000), true)
  assert.equal(performed, ['switch on', 'switch off', 'switch on'])
})

Actor('ctx.after delivers a message later on the injected clock, and never after the actor stopped', async () => {
  type M = { type: 'timer.arm', ms: number } | { type: 'timer.fired' } | { type: 'timer.count', replyTo: ReplyTo<number> }
  const t = spawnActor<number, M>(h.system, 'timer', {
    initialState: 0,
    handle: (n, msg, ctx) => {
      if (msg.type === 'timer.arm') { ctx.after(msg.ms, { type: 'timer.fired' }); return n }
      if (msg.type === 'timer.fired') return n + 1
      msg.replyTo(n)
      return n
    },
  })
  tell(t, { type: 'timer.arm', ms: 1_000 })
  tell(t, { type: 'timer.arm', ms: 5_000 })
  await waitFor('two timers armed', () => h.clock.timers().length === 2)
  h.clock.advance(1_000)
  assert.is(await ask(t, replyTo => ({ type: 'timer.count', replyTo }), 60_000), 1)
  assert.ok(h.clock.timers().includes(4_000), 'the 5 s timer has 4 s to go')
  stopActor(t)
  assert.not.ok(h.clock.timers().includes(4_000), 'the pending timer was cancelled with the actor')
})

Actor('afterStop runs once with the last state; stopping the system stops every actor', async () => {
  let last: number | undefined = -1
  const c = spawnActor<number, CounterMsg>(h.system, 'with-cleanup', {
    initialState: 1,
    handle: (n, m) => (m.type === 'counter.add' ? n + m.n : n),
    afterStop: s => { last = s },
  })
  tell(c, { type: 'counter.add', n: 41 })
  await settle()
  h.system.stop()
  await waitFor('afterStop', () => last !== -1)
  assert.is(last, 42)
  assert.not.ok(isAlive(c))
  assert.is(tell(c, { type: 'counter.add', n: 1 }), false)
})

Actor('stopping an actor stops its whole subtree at once (nact alone leaves children running)', async () => {
  const stopped: string[] = []
  type Noop = { type: 'noop.hold', replyTo: ReplyTo<string> }
  const node = (parent: ActorSystem | ActorRef<never>, name: string, kids: string[]): ActorRef<Noop> =>
    spawnActor<Array<ReplyTo<string>>, Noop>(parent, name, {
      init: ctx => { for (const k of kids) node(ctx.self, k, []); return [] },
      handle: (held, m) => [...held, m.replyTo],
      afterStop: () => { stopped.push(name) },
    })
  const top = node(h.system, 'group:ns/stack', [])
  const mid = node(top, 'runnable:ns/a', ['container:a1', 'container:a2'])
  await settle()
  const waiting = ask(mid, replyTo => ({ type: 'noop.hold', replyTo }), 60_000).catch((e: unknown) => e)
  await waitFor('held', () => h.system.pendingRequests === 1)
  stopActor(top)
  assert.not.ok(isAlive(mid), 'the child is stopped synchronously with its parent')
  assert.is(((await waiting) as ActorStoppedError).code, 'actor-stopped')
  await waitFor('every afterStop', () => stopped.length === 4)
  assert.equal([...stopped].sort(), ['container:a1', 'container:a2', 'group:ns/stack', 'runnable:ns/a'])
})

Actor.run()
