// An action whose module is imported only when its command runs, so `monk` starts with commander
// and the command table alone (each module the ESM loader reads at start-up costs about a
// millisecond; see benchmarks/cli.ts).
export function lazy<M, A extends unknown[]> (load: () => Promise<M>, pick: (m: M) => (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => { await pick(await load())(...args) }
}
