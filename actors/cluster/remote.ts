// The `/monk/actor/1` protocol: a request for an actor whose work lives on another peer goes to
// that peer as CBOR `{v: 1, instance, msg}` and comes back as `{ok: true, value}` or
// `{ok: false, error: {code, message}}`. Both directions are decoded with schemas: a malformed
// request or reply is a typed `bad-request`/`bad-reply` error, counted, and never crashes the peer.
import { decode as decodeCbor, encode as encodeCbor } from 'cborg'
import * as v from 'valibot'
import type { Value } from '../../grammar/monkscript/index.js'
import type { Mesh } from '../../mesh/mesh.js'
import { issueText } from '../messages/decode.js'
import { checkRemoteRole } from '../roles.js'
import { runnableRequests } from '../messages/runnable.js'
import type { OwnerReplies, OwnerRequest } from './runnables.js'

export const ACTOR_PROTOCOL = '/monk/actor/1'
/** How long a forwarded request may take (actions can be slow). */
const REMOTE_TIMEOUT_MS = 120_000

export class RemoteError extends Error {
  override readonly name = 'RemoteError'
  constructor (readonly code: string, message: string, options?: { cause?: unknown }) { super(message, options) }
}

const requestSchema = v.object({
  v: v.literal(1),
  instance: v.pipe(v.string(), v.minLength(1), v.maxLength(512)),
  msg: v.variant('type', [runnableRequests['runnable.action'], runnableRequests['runnable.exec'], runnableRequests['runnable.logs-page']]),
})

const errorSchema = v.object({ code: v.string(), message: v.string() })
const replySchema = v.variant('ok', [v.object({ ok: v.literal(true), value: v.unknown() }), v.object({ ok: v.literal(false), error: errorSchema })])

const logItem = v.object({ time: v.string(), stream: v.picklist(['stdout', 'stderr']), container: v.string(), text: v.string() })
const valueSchemas: { readonly [K in OwnerRequest['type']]: v.GenericSchema<unknown, OwnerReplies[K]> } = {
  'runnable.action': v.object({ output: v.unknown() }),
  'runnable.exec': v.object({ exitCode: v.number(), stdout: v.string(), stderr: v.string() }),
  'runnable.logs-page': v.array(logItem),
}

export type Serve = (instance: string, msg: OwnerRequest) => Promise<OwnerReplies[OwnerRequest['type']]>

/** Counters of the protocol, for logs and tests. */
export interface RemoteStats { served: number, malformed: number, failed: number, badReplies: number }

export class RemoteActors {
  readonly stats: RemoteStats = { served: 0, malformed: 0, failed: 0, badReplies: 0 }

  constructor (private readonly mesh: Mesh) {}

  /** Answers other peers' requests with `serve`. */
  async listen (serve: Serve): Promise<void> {
    await this.mesh.handle(ACTOR_PROTOCOL, (bytes, ctx) => this.answer(bytes, ctx.peer, serve))
  }

  /** Sends `msg` for `instance` to `peer` and returns its decoded reply. */
  async ask<T extends OwnerRequest['type']> (peer: string, instance: string, msg: Extract<OwnerRequest, { type: T }>): Promise<OwnerReplies[T]> {
    const bytes = await this.mesh.request(peer, ACTOR_PROTOCOL, encodeCbor({ v: 1, instance, msg }), { timeoutMs: REMOTE_TIMEOUT_MS })
    const r = v.safeParse(replySchema, safeCbor(bytes))
    if (!r.success) { this.stats.badReplies++; throw new RemoteError('bad-reply', `peer ${peer} sent a malformed reply to ${msg.type}: ${issueText(r.issues[0])}`) }
    if (!r.output.ok) throw new RemoteError(r.output.error.code, r.output.error.message)
    const schema: v.GenericSchema<unknown, OwnerReplies[T]> = valueSchemas[msg.type]
    const value = v.safeParse(schema, r.output.value)
    if (!value.success) { this.stats.badReplies++; throw new RemoteError('bad-reply', `peer ${peer} sent a malformed ${msg.type} reply: ${issueText(value.issues[0])}`) }
    return value.output
  }

  private async answer (bytes: Uint8Array, from: string, serve: Serve): Promise<Uint8Array> {
    const req = v.safeParse(requestSchema, safeCbor(bytes))
    if (!req.success) {
      this.stats.malformed++
      return encodeCbor({ ok: false, error: { code: 'bad-request', message: `malformed actor request: ${issueText(req.issues[0])}` } })
    }
    try {
      // actions, exec and log pages are asked of the owner only by operators (actors/roles.ts)
      checkRemoteRole(this.mesh, from, req.output.msg.type)
      const value = await serve(req.output.instance, req.output.msg)
      this.stats.served++
      return encodeCbor({ ok: true, value: plain(value) })
    } catch (err) {
      this.stats.failed++
      const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'remote-error'
      return encodeCbor({ ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } })
    }
  }
}

/** CBOR bytes → a value, or undefined when they do not decode (the schema then says why). */
function safeCbor (bytes: Uint8Array): unknown {
  try { return decodeCbor(bytes) } catch { return undefined }
}

/** Replies cross the wire as CBOR: keep them plain JSON values. */
function plain (value: unknown): Value {
  const text = JSON.stringify(value ?? null)
  const parsed: Value = JSON.parse(text)
  return parsed
}
