// Error kinds of the mesh: one class per kind, each with a stable `code` (tests assert the code).

/** Base of every mesh error: `code` is stable, the message says what failed for what. */
export abstract class MeshError extends Error {
  abstract readonly code: string
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** A join token or cluster description is malformed (which field, and why, is in the message). */
export class TokenError extends MeshError {
  override readonly name = 'TokenError'
  readonly code = 'MESH_TOKEN_INVALID'
}

/** A replica key is not a well-formed path. */
export class KeyError extends MeshError {
  override readonly name = 'KeyError'
  readonly code = 'MESH_KEY_INVALID'
}

/** A local write that would take this peer's entries or bytes in the replica over its quota. */
export class QuotaError extends MeshError {
  override readonly name = 'QuotaError'
  readonly code = 'MESH_QUOTA'
}

/** A write to a key that another peer owns (DESIGN §3 owner rules). */
export class OwnershipError extends MeshError {
  override readonly name = 'OwnershipError'
  readonly code = 'MESH_NOT_OWNER'
}

/** A write this peer's role does not allow, or an admission refused (roles.ts, admission.ts). */
export class RoleError extends MeshError {
  override readonly name = 'RoleError'
  readonly code = 'MESH_ROLE'
}

/** A value cannot be replicated: not plain data, too deep, or too large once encoded. */
export class ValueError extends MeshError {
  override readonly name = 'ValueError'
  readonly code = 'MESH_VALUE_INVALID'
}

/** Why a received message was refused; each reason has its own counter. */
export type RejectReason = 'malformed' | 'oversized' | 'owner' | 'skew' | 'signature'

/** A message from a peer failed validation. Never escapes the receive path: it is counted and dropped. */
export class DecodeError extends MeshError {
  override readonly name = 'DecodeError'
  readonly code = 'MESH_DECODE'
  readonly reason: RejectReason
  constructor (reason: RejectReason, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.reason = reason
  }
}

/** The persistent store failed (open, read or write) under the given home. */
export class StoreError extends MeshError {
  override readonly name = 'StoreError'
  readonly code = 'MESH_STORE'
}

/** The mesh could not start: no cluster, a cluster mismatch with the home, or listening failed. */
export class StartError extends MeshError {
  override readonly name = 'StartError'
  readonly code = 'MESH_START'
}

/** A request to a peer on an extra protocol failed: dial, timeout, or the remote handler threw. */
export class RequestError extends MeshError {
  override readonly name = 'RequestError'
  readonly code = 'MESH_REQUEST'
}

/** A peer broke a mesh protocol (sync frames out of order, bad frame length). */
export class ProtocolError extends MeshError {
  override readonly name = 'ProtocolError'
  readonly code = 'MESH_PROTOCOL'
}

/** The mesh was used after stop() or leave(). */
export class StoppedError extends MeshError {
  override readonly name = 'StoppedError'
  readonly code = 'MESH_STOPPED'
}
