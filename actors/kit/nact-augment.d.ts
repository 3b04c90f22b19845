// What nact 7.6.2 does but its bundled typings leave out (checked against its lib/*.js): `start`
// takes `{ name }`, `spawn` takes the kit's own actor function and properties, and every ref
// knows its system's name. Declared here once instead of cast at each call.
import 'nact'

declare module 'nact' {
  export function start (opts: { name: string }): Ref<never>
  export function spawn (parent: Ref<unknown>, f: unknown, name: string, props: unknown): Ref<unknown>
  interface Ref<T> {
    readonly system: { readonly name: string }
  }
}
