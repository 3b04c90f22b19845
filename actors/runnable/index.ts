// The runnable actor in one import: spawn it, the pure decide, its errors and its directories.
export { spawnRunnable, type RunnableDeps } from './actor.js'
export { decide, initialRecord, drives, restartBackoff, DEPENDS_POLL_MS, type Assignment, type Phase, type Plan, type RunnableEffect, type RunnableEvent, type RunnableRecord } from './decide.js'
export { RunnableError } from './errors.js'
export { instanceDir, instanceDirName, filePath } from './dirs.js'
export { actionArguments, actionInfos, actionOf, runActionCode } from './actions.js'
