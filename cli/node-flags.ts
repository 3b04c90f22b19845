// Node/V8 flags monkd runs with, wherever it is started (`monk daemon start`, the built bin's
// shebang, cloud machines' systemd unit through that bin, local machines, tests and benchmarks).
// Measured on an idle peer built into dist/ (mesh README, "Idle cost"): RSS 93 → ~80 MB.
// - --max-semi-space-size=2: the young generation's semi-spaces at 2 MB instead of V8's 16 MB
//   default; a daemon allocates in small steady bursts, so scavenges stay cheap and RSS stays low.
// - --v8-pool-size=1: one V8 background thread (GC/compile helpers) instead of one per core; each
//   idle thread holds its own stack and arenas, and monkd has no parallel JS work to give them.
export const MONKD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--v8-pool-size=1']
