import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorStoppedError, AskTimeoutError } from '../../../actors/errors.js'
import { ask, spawnActor, startSystem, stopActor, tell, type ActorSystem, type ReplyTo } from '../../../actors/kit/index.js'
import { ManualScheduler } from '../../helpers/actors-clock.js'
import { waitFor } from '../../helpers/actors-wait.js'

type EchoMsg =
  | { type: 'echo.say', text: string, replyTo: ReplyTo<string> }
  | { type: 'echo.double', n: number, replyTo: ReplyTo<number> }
  | { type: 'echo.ignore', replyTo: ReplyTo<string> }
  | { type: 'echo.refuse', replyTo: ReplyTo<string> }
  | { type: 'echo.hold', replyTo: ReplyTo<string> }
  | { type: 'echo.release' }
  | { type: 'echo.note' }

interface Held { held: Array<ReplyTo<string>> }

function echo (system: ActorSystem, name = 'echo') {
  return spawnActor<Held, EchoMsg>(system, name, {
    init: () => ({ held: [] }),
    handle: (s, msg) => {
      switch (msg.type) {
        case 'echo.say': msg.replyTo(msg.text); break
        case 'echo.double': msg.replyTo(msg.n * 2); break
        case 'echo.refuse': msg.replyTo.fail(Object.assign(new Error('refused on purpose'), { code: 'refused' })); break
        case 'echo.hold': s.held.push(msg.replyTo); break
        case 'echo.release': for (const r of s.held) r('released'); s.held = []; break
        case 'echo.ignore': case 'echo.note': break
      }
      return s
    },
  })
}

const Ask = suite('actor kit: ask')
let system: ActorSystem
Ask.after.each(() => system.stop())

Ask('replies are typed by the request: string for echo.say, number for echo.double', async () => {
  system = startSystem('ask')
  const e = echo(system)
  const s: string = await ask(e, replyTo => ({ type: 'echo.say', text: 'hi', replyTo }))
  const n: number = await ask(e, replyTo => ({ type: 'echo.double', n: 21, replyTo }))
  assert.is(s, 'hi')
  assert.is(n, 42)
  // @ts-expect-error echo.note is not a request (no replyTo)
  const bad = () => ask(e, () => ({ type: 'echo.note' }))
  assert.type(bad, 'function')
})

Ask('200,000 concurrent asks are all answered, none times out (nact query ids would collide)', async () => {
  system = startSystem('load')
  const e = echo(system)
  const N = 200_000
  const started = Date.now()
  const replies = await Promise.allSettled(Array.from({ length: N }, (_, i) => ask(e, replyTo => ({ type: 'echo.double', n: i, replyTo }), 120_000)))
  const elapsed = Date.now() - started
  let wrong = 0
  let failed = 0
  replies.forEach((r, i) => { if (r.status === 'rejected') failed++; else if (r.value !== i * 2) wrong++ })
  assert.is(failed, 0, `${failed} asks failed`)
  assert.is(wrong, 0, `${wrong} asks got another ask's reply`)
  assert.is(system.pendingRequests, 0)
  console.log(`    ${N} concurrent asks answered in ${elapsed} ms (${Math.round(N / (elapsed / 1000))}/s)`)
})

Ask('an actor that does not answer: typed ask-timeout error after the timeout, not before', async () => {
  const clock = new ManualScheduler()
  system = startSystem('timeout', { clock })
  const e = echo(system)
  let outcome: unknown
  const p = ask(e, replyTo => ({ type: 'echo.ignore', replyTo }), 500).then(v => { outcome = v }, (err: unknown) => { outcome = err })
  await waitFor('the ignored message to be handled', () => clock.timers().length === 1 && system.pendingRequests === 1)
  clock.advance(499)
  await new Promise(resolve => setImmediate(resolve))
  assert.is(outcome, undefined, 'still waiting at 499 ms')
  clock.advance(1)
  await p
  assert.instance(outcome, AskTimeoutError)
  const err = outcome as AskTimeoutError
  assert.is(err.code, 'ask-timeout')
  assert.is(err.actor, 'echo')
  assert.is(err.messageType, 'echo.ignore')
  assert.is(err.timeoutMs, 500)
  assert.is(system.pendingRequests, 0)
})

Ask('with the real clock, a 30 ms timeout fires', async () => {
  system = startSystem('real-timeout')
  const e = echo(system)
  const err = await ask(e, replyTo => ({ type: 'echo.ignore', replyTo }), 30).catch((x: unknown) => x)
  assert.is((err as AskTimeoutError).code, 'ask-timeout')
})

Ask('a stopped actor: immediate typed actor-stopped error, with no timer started', async () => {
  const clock = new ManualScheduler()
  system = startSystem('stopped', { clock })
  const e = echo(system)
  stopActor(e)
  const err = await ask(e, replyTo => ({ type: 'echo.say', text: 'x', replyTo }), 60_000).catch((x: unknown) => x)
  assert.instance(err, ActorStoppedError)
  assert.is((err as ActorStoppedError).code, 'actor-stopped')
  assert.match((err as Error).message, /actor echo is stopped or never existed: cannot answer echo\.say/)
  assert.equal(clock.timers(), [])
  assert.is(tell(e, { type: 'echo.note' }), false)
})

Ask('an actor that stops while asks wait on it fails them at once', async () => {
  const clock = new ManualScheduler()
  system = startSystem('stopping', { clock })
  const e = echo(system)
  const waiting = [1, 2, 3].map(() => ask(e, replyTo => ({ type: 'echo.hold', replyTo }), 60_000).catch((x: unknown) => x))
  await waitFor('three held', () => system.pendingRequests === 3)
  stopActor(e)
  const errs = await Promise.all(waiting)
  for (const err of errs) assert.is((err as ActorStoppedError).code, 'actor-stopped')
  assert.is(system.pendingRequests, 0)
})

Ask('replyTo.fail rejects the ask with the given error; a late reply is dropped', async () => {
  const clock = new ManualScheduler()
  system = startSystem('fail', { clock })
  const e = echo(system)
  const err = await ask(e, replyTo => ({ type: 'echo.refuse', replyTo })).catch((x: unknown) => x)
  assert.is((err as { code?: string }).code, 'refused')
  // Hold a request, time it out, then release: the late reply finds nobody waiting.
  const held = ask(e, replyTo => ({ type: 'echo.hold', replyTo }), 100).catch((x: unknown) => x)
  await waitFor('held', () => system.pendingRequests === 1)
  clock.advance(100)
  assert.is(((await held) as AskTimeoutError).code, 'ask-timeout')
  tell(e, { type: 'echo.release' })
  assert.is(await ask(e, replyTo => ({ type: 'echo.say', text: 'still fine', replyTo })), 'still fine')
})

Ask('correlation ids increase by one per ask within a system', async () => {
  system = startSystem('ids')
  const ids: number[] = []
  const spy = spawnActor<null, { type: 'spy.id', replyTo: ReplyTo<number> }>(system, 'spy', {
    initialState: null,
    handle: (s, m) => { ids.push(m.replyTo.requestId); m.replyTo(m.replyTo.requestId); return s },
  })
  await Promise.all([0, 1, 2, 3].map(() => ask(spy, replyTo => ({ type: 'spy.id', replyTo }))))
  assert.equal(ids, [ids[0]!, ids[0]! + 1, ids[0]! + 2, ids[0]! + 3])
})

Ask('stopping the system rejects every pending ask with actor-stopped', async () => {
  system = startSystem('shutdown', { clock: new ManualScheduler() })
  const e = echo(system)
  const waiting = ask(e, replyTo => ({ type: 'echo.hold', replyTo }), 60_000).catch((x: unknown) => x)
  await waitFor('held', () => system.pendingRequests === 1)
  system.stop()
  assert.is(((await waiting) as ActorStoppedError).code, 'actor-stopped')
})

Ask.run()
