// Defaults of the control plane, each with the reason for its value.

/** Placement weight unit for CPU: one core, so a peer's weight reads as "1-core workloads that fit". */
export const PLACEMENT_CPU_UNIT = 1

/** Placement weight unit for memory: 1 GiB in bytes, paired with one core as a typical small workload. */
export const PLACEMENT_MEMORY_UNIT = 1024 * 1024 * 1024

/**
 * Smallest rendezvous weight. A full peer stays eligible for instances without resource requests
 * (or with ignore-pressure), so its weight must stay positive for -w/ln(h); this small value makes
 * it lose to any peer with real room almost always.
 */
export const PLACEMENT_MIN_WEIGHT = 0.01

/** Weight of a peer that reports no cpu/memory figures: the same as a one-slot peer. */
export const PLACEMENT_UNKNOWN_WEIGHT = 1

/** First restart delay after a crash: long enough to avoid a hot loop, short enough to be invisible. */
export const RESTART_INITIAL_DELAY_MS = 100

/** Each further consecutive crash multiplies the delay by this (classic exponential backoff). */
export const RESTART_FACTOR = 2

/** Cap on the restart delay: a broken actor retries twice a minute, not never. */
export const RESTART_MAX_DELAY_MS = 30_000

/**
 * A crash this long after the previous restart counts as a fresh first crash: an actor that ran
 * fine for a minute should not pay the backoff it accumulated earlier.
 */
export const RESTART_RESET_AFTER_MS = 60_000

/** Jitter fraction added to a restart delay (0.2 = up to +20%) so sibling actors do not restart in lockstep. */
export const RESTART_JITTER = 0.2

/** Default ask timeout: local actors answer in microseconds; 5 s covers slow effects without hanging a CLI. */
export const ASK_TIMEOUT_MS = 5_000

/** How long `monk cluster token` invites stay valid without --ttl: long enough to start the machines of a day's work, short enough that a token found later admits nobody. */
export const INVITE_TTL_MS = 24 * 60 * 60 * 1000
