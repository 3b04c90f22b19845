// Operators of the spec §3.4 "Collections / JSON / internals" table.

import { MAX_VALUE_LENGTH } from '../defaults.js'
import { ArrowError } from '../errors.js'
import { opInstr } from '../invoke.js'
import { type Machine, run } from '../machine.js'
import {
  type ArrowValue, ArrowFunc, Mark, fromJSONText, isObject, newObject, ownMember, setMember, toJSONText, truthy,
} from '../values.js'
import { findOperator } from './lookup.js'
import { bounded } from './strings.js'
import { type OpDef, type Result, arr, name, obj, str, typeError } from './types.js'

function func (op: string, v: ArrowValue): ArrowFunc {
  if (!(v instanceof ArrowFunc)) throw typeError(op, 'a function block <-{ … }', v)
  return v
}

function member (container: ArrowValue, key: ArrowValue): ArrowValue {
  if (container === null) return null
  if (Array.isArray(container)) {
    const i = typeof key === 'bigint' ? Number(key) : typeof key === 'string' && /^\d+$/.test(key) ? Number(key) : key
    if (typeof i !== 'number' || !Number.isInteger(i)) throw typeError('get-member', 'an integer index for an array', key)
    return container[i] ?? null
  }
  if (isObject(container)) return ownMember(container, name('get-member', key, 'a key (string)')) ?? null
  throw typeError('get-member', 'an object or an array', container)
}

function ends (op: string, pick: (a: ArrowValue[]) => ArrowValue | undefined) {
  return (v: ArrowValue): ArrowValue => {
    if (v === null) return null
    return pick(arr(op, v)) ?? null
  }
}

/** Run a function block on each element in its own frame; `collect` receives (element, block result). */
function eachElement (op: string, m: Machine, items: ArrowValue[], fn: ArrowFunc,
  collect: (item: ArrowValue, result: ArrowValue) => void): void | Promise<void> {
  const code = fn.code as Parameters<typeof run>[0]
  let i = 0
  const finish = (): void => {
    const v = m.leaveFrame()
    m.exitCall()
    collect(items[i] as ArrowValue, v)
  }
  const loop = (): void | Promise<void> => {
    for (; i < items.length; i++) {
      m.enterCall(op)
      m.enterFrame()
      m.stack.push(items[i] as ArrowValue)
      const r = run(code, m)
      if (r !== undefined) return r.then(() => { finish(); i++; return loop() })
      finish()
    }
  }
  return loop()
}

function mapLike (op: string, keep: boolean) {
  return (a: ArrowValue, f: ArrowValue, m: Machine): Result => {
    const items = arr(op, a)
    const fn = func(op, f)
    const out: ArrowValue[] = []
    const r = eachElement(op, m, items, fn, keep ? (item, v) => { if (truthy(v)) out.push(item) } : (_, v) => { out.push(v) })
    return r === undefined ? out : r.then(() => out)
  }
}

export const collectionOperators: OpDef[] = [
  {
    name: 'get-member', table: 'collections', effect: '(Obj) get-member(key) → (v or nil)', inputs: 2,
    // nil in → nil out, so `entity-state get-member("x")` before the entity exists is nil, not an error.
    run: member,
  },
  { name: 'first', table: 'collections', effect: '(Array) → (elem)', inputs: 1, run: ends('first', a => a[0]) },
  { name: 'last', table: 'collections', effect: '(Array) → (elem)', inputs: 1, run: ends('last', a => a[a.length - 1]) },
  { name: 'array', table: 'collections', effect: '→ ([])', inputs: 0, run: () => [] },
  { name: 'object', table: 'collections', effect: '→ ({})', inputs: 0, run: () => newObject() },
  {
    name: 'append', table: 'collections', effect: '(Array)(x) → (Array)', inputs: 2,
    run: (a, x) => {
      const items = arr('append', a)
      if (items.length >= MAX_VALUE_LENGTH) throw new ArrowError('limit', `append: array longer than ${MAX_VALUE_LENGTH}`, { operator: 'append' })
      return [...items, x]
    },
  },
  {
    name: 'assoc', table: 'collections', effect: '(Obj)(key)(val) → (Obj)', inputs: 3,
    run: (o, k, v) => {
      const src = obj('assoc', o)
      const out = newObject()
      for (const key of Object.keys(src)) setMember(out, key, src[key] as ArrowValue)
      setMember(out, name('assoc', k, 'a key (string)'), v)
      return out
    },
  },
  {
    name: 'dup', table: 'collections', effect: '(x) → (x)(x)', inputs: 'custom', maxArgs: 1,
    run: m => {
      m.need('dup', 1)
      m.stack.push(m.stack[m.stack.length - 1] as ArrowValue)
    },
  },
  { name: 'const', table: 'collections', effect: 'const(x) → (x)', inputs: 1, run: x => x },
  { name: 'mark', table: 'collections', effect: '→ <mark>', inputs: 0, run: () => Mark.instance },
  {
    name: 'call', table: 'collections', effect: '(opname Str)(args Array) → (r)', inputs: 'custom', maxArgs: 2,
    // Invoke an operator by name, as its call form with `args` as the call arguments.
    run: (m) => {
      const args = arr('call', m.pop('call'))
      const opName = str('call', m.pop('call'), 'an operator name (string)')
      const def = findOperator(opName)
      if (def === undefined) throw new ArrowError('unknown-operator', `call: unknown operator '${opName}'`, { operator: 'call' })
      m.enterCall('call')
      for (const a of args) m.stack.push(a)
      let r: void | Promise<void>
      try { r = opInstr(def, opName, args.length)(m) } catch (e) { m.exitCall(); throw e }
      if (r === undefined) { m.exitCall(); return }
      return r.then(() => { m.exitCall() })
    },
  },
  {
    name: 'callf', table: 'collections', effect: '(…)(Func) → (…)', inputs: 'custom', maxArgs: 1,
    // The block runs on the caller's stack: `1 <-{ 1 add } callf` ≡ `1 1 add`.
    run: m => {
      const fn = func('callf', m.pop('callf'))
      m.enterCall('callf')
      let r: void | Promise<void>
      try { r = run(fn.code as Parameters<typeof run>[0], m) } catch (e) { m.exitCall(); throw e }
      if (r === undefined) { m.exitCall(); return }
      return r.then(() => { m.exitCall() })
    },
  },
  { name: 'map', table: 'collections', effect: '(Array) map(Func) → (Array)', inputs: 2, run: mapLike('map', false) },
  { name: 'filter', table: 'collections', effect: '(Array) filter(Func) → (Array)', inputs: 2, run: mapLike('filter', true) },
  { name: 'parse-json', table: 'collections', effect: '(Str) → (any)', inputs: 1, run: s => fromJSONText(str('parse-json', s)) },
  { name: 'to-json', table: 'collections', effect: '(any) → (Str)', inputs: 1, run: v => bounded('to-json', toJSONText(v, true)) },
  {
    name: 'random-uuid', table: 'collections', effect: '→ (Str)', inputs: 0,
    run: m => (m.ctx.uuid !== undefined ? m.ctx.uuid() : globalThis.crypto.randomUUID()),
  },
]
