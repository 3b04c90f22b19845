// Wire format of the SWIM membership protocol (/monk/<clusterId>/swim/1): the message and update
// kinds, and their strict CBOR encoding. Kinds are append-only; a receiver drops (and the shell
// counts) anything that does not decode exactly.
import { decodeCbor, encodeCbor, isPeerIdString, wireVersion } from './codec.js'
import { DecodeError } from './errors.js'

/** What one peer says about another (or itself); piggybacked on every message. */
export type Update =
  | { kind: 'alive'; peer: string; inc: number }
  /** `from` suspects `peer` at incarnation `inc`; `refused` when a dial to it was refused (no process listens). */
  | { kind: 'suspect'; peer: string; inc: number; from: string; refused: boolean }
  | { kind: 'dead'; peer: string; inc: number; from: string; refused: boolean }
  | { kind: 'left'; peer: string; inc: number }

/** A protocol message. `inc` is always the sender's own incarnation (a claim that it is alive). */
export type SwimMessage =
  | { type: 'ping'; seq: number; inc: number; updates: Update[] }
  | { type: 'ack'; seq: number; inc: number; updates: Update[] }
  /** Ask the receiver to ping `target` and answer with ack(seq) or, failing that, nack(seq). */
  | { type: 'ping-req'; seq: number; inc: number; target: string; updates: Update[] }
  | { type: 'nack'; seq: number; inc: number; updates: Update[] }
  /** Dissemination only (sent when updates are pending, never when idle). */
  | { type: 'gossip'; seq: number; inc: number; updates: Update[] }

const messageKinds = { ping: 1, ack: 2, 'ping-req': 3, nack: 4, gossip: 5 } as const
const updateKinds = { alive: 1, suspect: 2, dead: 3, left: 4 } as const

/** Most updates one message may carry (and the decoder accepts). */
export const maxUpdatesPerMessage = 16
/** Largest encoded message: 16 updates of ~110 bytes plus the header, with room. */
export const maxSwimMessageBytes = 4096

function updateTuple (u: Update): unknown[] {
  switch (u.kind) {
    case 'alive': return [updateKinds.alive, u.peer, u.inc]
    case 'left': return [updateKinds.left, u.peer, u.inc]
    case 'suspect': return [updateKinds.suspect, u.peer, u.inc, u.from, u.refused ? 1 : 0]
    case 'dead': return [updateKinds.dead, u.peer, u.inc, u.from, u.refused ? 1 : 0]
  }
}

/** [version, kind, seq, inc, updates] or, for ping-req, [version, kind, seq, inc, updates, target]. */
export function encodeSwim (m: SwimMessage): Uint8Array {
  const base: unknown[] = [wireVersion, messageKinds[m.type], m.seq, m.inc, m.updates.map(updateTuple)]
  if (m.type === 'ping-req') base.push(m.target)
  return encodeCbor(base)
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0

function decodeUpdate (t: unknown): Update {
  if (!Array.isArray(t) || t.length < 3) throw new DecodeError('malformed', 'swim update is not an array of 3 or more')
  const [kind, peer, inc, from, refused] = t as unknown[]
  if (!isPeerIdString(peer)) throw new DecodeError('malformed', 'swim update has an invalid peer id')
  if (!isCount(inc)) throw new DecodeError('malformed', `swim update about ${peer} has an invalid incarnation`)
  switch (kind) {
    case updateKinds.alive:
    case updateKinds.left:
      if (t.length !== 3) throw new DecodeError('malformed', 'swim alive/left update has extra fields')
      return { kind: kind === updateKinds.alive ? 'alive' : 'left', peer, inc }
    case updateKinds.suspect:
    case updateKinds.dead:
      if (t.length !== 5 || !isPeerIdString(from) || (refused !== 0 && refused !== 1)) throw new DecodeError('malformed', `swim suspect/dead update about ${peer} is malformed`)
      return { kind: kind === updateKinds.suspect ? 'suspect' : 'dead', peer, inc, from, refused: refused === 1 }
    default:
      throw new DecodeError('malformed', `unknown swim update kind ${String(kind)}`)
  }
}

/** Decodes and shape-checks one message. Throws DecodeError('malformed' | 'oversized'). */
export function decodeSwim (bytes: Uint8Array): SwimMessage {
  if (bytes.length > maxSwimMessageBytes) throw new DecodeError('oversized', `swim message of ${bytes.length} bytes exceeds ${maxSwimMessageBytes}`)
  const msg = decodeCbor(bytes, 'swim message')
  if (!Array.isArray(msg) || msg.length < 5 || msg.length > 6) throw new DecodeError('malformed', 'swim message is not a 5- or 6-element array')
  const [version, kind, seq, inc, list, target] = msg as unknown[]
  if (version !== wireVersion) throw new DecodeError('malformed', `swim message has wire version ${String(version)}, this peer speaks ${wireVersion}`)
  if (!isCount(seq) || !isCount(inc)) throw new DecodeError('malformed', 'swim message has an invalid sequence or incarnation')
  if (!Array.isArray(list)) throw new DecodeError('malformed', 'swim message has no update list')
  if (list.length > maxUpdatesPerMessage) throw new DecodeError('oversized', `swim message carries ${list.length} updates, more than ${maxUpdatesPerMessage}`)
  const updates = list.map(decodeUpdate)
  const type = (Object.keys(messageKinds) as Array<keyof typeof messageKinds>).find(k => messageKinds[k] === kind)
  if (type === undefined) throw new DecodeError('malformed', `unknown swim message kind ${String(kind)}`)
  if (type === 'ping-req') {
    if (msg.length !== 6 || !isPeerIdString(target)) throw new DecodeError('malformed', 'swim ping-req has no valid target')
    return { type, seq, inc, updates, target }
  }
  if (msg.length !== 5) throw new DecodeError('malformed', `swim ${type} has extra fields`)
  return { type, seq, inc, updates }
}
