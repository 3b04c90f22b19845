// Invites and their redemption over /monk/admit/1 (SECURITY.md): an operator makes an invite, a
// random 32-byte secret, and writes `invite/<sha256(secret) hex>` = { role, uses, expires, by, at }
// (the replica never holds the secret). The secret travels in a join token; the joiner sends it to
// an operator, which checks the invite, writes `admit/<joiner>` and spends one use. The joiner's
// peer id is the authenticated libp2p peer of the stream, so an invite admits whoever redeems it.
import { createHash, randomBytes } from 'node:crypto'
import { decodeCbor, encodeCbor } from './codec.js'
import { RoleError } from './errors.js'
import { admitKey, invitePrefix, type Admission, type Role, type Roles } from './roles.js'
import type { Value } from './value.js'

/** What an `invite/<hash>` record holds. uses: null = any number; expires: wall ms, 0 = never. */
export interface Invite { role: Role, uses: number | null, expires: number, by: string, at: number }

export const inviteKey = (secret: Uint8Array): string => `${invitePrefix}${createHash('sha256').update(secret).digest('hex')}`

/** A fresh invite secret. */
export function inviteSecret (): Uint8Array {
  return new Uint8Array(randomBytes(32))
}

export function decodeInvite (v: Value | undefined): Invite | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return undefined
  const { role, uses, expires, by, at } = v as Record<string, Value>
  if (role !== 'operator' && role !== 'worker') return undefined
  if (!(uses === null || (typeof uses === 'number' && Number.isSafeInteger(uses) && uses >= 0))) return undefined
  if (typeof expires !== 'number' || typeof by !== 'string' || typeof at !== 'number') return undefined
  return { role, uses, expires, by, at }
}

export function encodeInvite (i: Invite): Value {
  return { role: i.role, uses: i.uses, expires: i.expires, by: i.by, at: i.at }
}

export function encodeAdmission (a: Admission): Value {
  return { role: a.role, by: a.by, at: a.at }
}

/** The request frame: [1, secret]. */
export function encodeAdmitRequest (secret: Uint8Array): Uint8Array {
  return encodeCbor([1, secret])
}

export function decodeAdmitRequest (bytes: Uint8Array): Uint8Array {
  const v = decodeCbor(bytes, 'admission request')
  if (!Array.isArray(v) || v.length !== 2 || v[0] !== 1 || !(v[1] instanceof Uint8Array) || v[1].length !== 32) throw new RoleError('malformed admission request')
  return v[1]
}

export interface RedeemDeps {
  self: string
  roles: Roles
  now: () => number
  get: (key: string) => Value | undefined
  put: (key: string, value: Value) => Promise<unknown>
  del: (key: string) => Promise<unknown>
}

/**
 * Serves one redemption: `peer` (authenticated) presents `secret`. Writes its admission and spends
 * one use; returns the role. Throws RoleError naming why it refuses. A peer already admitted gets
 * its current role back, and spends nothing (a joiner retries until it sees its admission).
 */
export async function redeem (peer: string, secret: Uint8Array, d: RedeemDeps): Promise<Role> {
  if (d.roles.roleOf(d.self) !== 'operator') throw new RoleError(`peer ${d.self} is not an operator: it cannot admit peers`)
  if (d.roles.removed(peer)) throw new RoleError(`peer ${peer} was removed from the cluster; an invite does not bring it back`)
  const key = inviteKey(secret)
  const invite = decodeInvite(d.get(key))
  if (!invite) throw new RoleError('the invite is unknown or spent (make a new token: monk cluster token)')
  if (invite.expires !== 0 && d.now() > invite.expires) throw new RoleError(`the invite expired at ${new Date(invite.expires).toISOString()}`)
  const current = d.roles.roleOf(peer)
  if (current === 'operator' || current === invite.role) return current
  await d.put(admitKey(peer), encodeAdmission({ role: invite.role, by: d.self, at: d.now() }))
  if (invite.uses !== null) {
    if (invite.uses <= 1) await d.del(key)
    else await d.put(key, encodeInvite({ ...invite, uses: invite.uses - 1 }))
  }
  return invite.role
}

export interface AskInit {
  self: string
  /** Bootstrap multiaddrs (each ending in /p2p/<id>): the peers asked, in turn. */
  bootstrap: readonly string[]
  secret: Uint8Array
  /** True once this peer holds its admission (then asking stops). */
  admitted: () => boolean
  request: (peer: string, bytes: Uint8Array) => Promise<Uint8Array>
  warn: (message: string) => void
  /** First retry delay; doubles after each failure up to 5 times it (a joiner must not wait long once its bootstrap peer answers). */
  retryMs: number
}

/** Redeems the invite with the bootstrap peers, one at a time, until admitted or stopped. */
export class AskAdmission {
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private turn = 0
  private delay: number

  constructor (private readonly init: AskInit) {
    this.delay = init.retryMs
  }

  start (): void { void this.attempt() }

  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  private async attempt (): Promise<void> {
    const { init } = this
    if (this.stopped || init.admitted()) return
    const targets = [...new Set(init.bootstrap.map(a => a.slice(a.lastIndexOf('/p2p/') + 5)))].filter(p => p !== init.self)
    const target = targets[this.turn++ % Math.max(1, targets.length)]
    let failed = target === undefined
    if (target !== undefined) {
      try {
        await init.request(target, encodeAdmitRequest(init.secret))
      } catch (err) {
        failed = true
        init.warn(`admission with peer ${target} failed: ${(err as Error).message}`)
      }
    }
    if (this.stopped || init.admitted()) return
    // the admission is on its way after a success; a refusal (spent, expired) will not change soon
    this.delay = failed ? Math.min(this.delay * 2, init.retryMs * 5) : init.retryMs
    this.timer = setTimeout(() => { void this.attempt() }, this.delay)
  }
}
