// Runtime selection: `docker`, `process`, or `auto` (docker when its socket answers, else process).
import { ENGINE_PING_TIMEOUT_MS } from './defaults.js'
import { DockerRuntime } from './docker.js'
import type { DockerRuntimeOptions } from './docker.js'
import { RuntimeError } from './errors.js'
import { ProcessRuntime } from './process.js'
import type { ProcessRuntimeOptions } from './process.js'
import type { Runtime } from './runtime.js'

export type RuntimeMode = 'auto' | 'docker' | 'process'

export const RUNTIME_MODES: readonly RuntimeMode[] = ['auto', 'docker', 'process']

export interface SelectOptions {
  mode: RuntimeMode
  docker?: DockerRuntimeOptions
  process?: ProcessRuntimeOptions
}

export interface Selected {
  runtime: Runtime
  /** Why this runtime, for the daemon's startup log: `docker answers on unix:///var/run/docker.sock`. */
  reason: string
}

export function isRuntimeMode (s: string): s is RuntimeMode {
  return (RUNTIME_MODES as readonly string[]).includes(s)
}

/**
 * Open the runtime `mode` asks for. `docker` fails with EngineUnreachableError when no engine
 * answers; `auto` falls back to the process runtime then, and says why in `reason`.
 */
export async function selectRuntime (opts: SelectOptions): Promise<Selected> {
  if (opts.mode === 'process') {
    const runtime = await ProcessRuntime.open(opts.process ?? {})
    return { runtime, reason: `process runtime selected (state in ${runtime.endpoint})` }
  }
  const dockerOpts: DockerRuntimeOptions = { pingTimeoutMs: ENGINE_PING_TIMEOUT_MS, ...opts.docker }
  if (opts.mode === 'docker') {
    const runtime = await DockerRuntime.open(dockerOpts)
    return { runtime, reason: `docker runtime selected (engine at ${runtime.endpoint})` }
  }
  try {
    const runtime = await DockerRuntime.open(dockerOpts)
    return { runtime, reason: `auto: a Docker engine answers on ${runtime.endpoint}` }
  } catch (err) {
    if (!(err instanceof RuntimeError) || err.code !== 'engine-unreachable') throw err
    const runtime = await ProcessRuntime.open(opts.process ?? {})
    return { runtime, reason: `auto: ${err.message}; using the process runtime (state in ${runtime.endpoint})` }
  }
}
