// Defaults of the Arrow interpreter, each with the reason for its value.

/**
 * Compiled scripts kept per kind. The corpus has ~1,000 distinct scripts, so a whole kit library fits
 * many times over; the bound only matters for generated code (code fields that start with `<-`),
 * whose text can vary with variables. When full, the oldest entry is dropped.
 */
export const COMPILE_CACHE_SIZE = 10_000

/**
 * Nesting of function-block calls (`callf`, `map`, `filter`, `call`). Real scripts nest one or two
 * levels; a block that calls itself through a temporary variable would otherwise overflow the JS stack.
 */
export const MAX_CALL_DEPTH = 100

/**
 * Function-block invocations per evaluation. Bounds the work of self-calling blocks
 * (`<-{ $f callf $f callf }` doubles at each level) while leaving room for `map` over large arrays.
 */
export const MAX_CALLS = 100_000

/**
 * Length of a string or array an operator may build. Keeps a runaway script (`dup concat` repeated)
 * from exhausting memory of the daemon; 16 MiB is far above any configuration value.
 */
export const MAX_VALUE_LENGTH = 16 * 1024 * 1024

/** Attempts `wait-for` makes when the script gives a count below 1 (one try is always made). */
export const MIN_WAIT_FOR_ATTEMPTS = 1
