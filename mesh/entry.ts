// One replicated key: its value (or tombstone) and the HLC of the write that produced it.
import { compareHlc, type Hlc } from './hlc.js'
import type { Value } from './value.js'

/** The state of one key. `value === undefined` means deleted (a tombstone). */
export interface Entry {
  readonly key: string
  readonly hlc: Hlc
  readonly value: Value | undefined
  /**
   * Ed25519 signature of the writer (`hlc.peer`) over the key, HLC and value (signing.ts). Always
   * present on the wire; absent only on entries being made here before commit signs them, and on
   * entries read from a store written before signing (this peer signs its own again at start).
   */
  readonly sig?: Uint8Array
}

/** True when `entry` is a tombstone. */
export function isTombstone (entry: Entry): boolean {
  return entry.value === undefined
}

/**
 * LWW: true when `incoming` should replace `current`. The HLC order is total (the writer's peer id
 * breaks ties), so every replica that sees the same two entries keeps the same one.
 */
export function wins (incoming: Entry, current: Entry | undefined): boolean {
  return current === undefined || compareHlc(incoming.hlc, current.hlc) > 0
}
