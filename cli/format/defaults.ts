// Defaults of the CLI's output formatting, each with the reason for its value.

/** A spinner appears only after this long, so quick answers do not flicker one. */
export const SPINNER_DELAY_MS = 400

/** Spinner frame period: smooth without costing CPU. */
export const SPINNER_FRAME_MS = 100

/** On a pipe, progress lines start after a second: the issue asks for progress on work over one. */
export const PROGRESS_LINE_DELAY_MS = 1_000
