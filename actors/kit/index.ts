// The actor kit in one import: typed nact actors with supervision, request/reply and injected time.
export { startSystem, ActorSystem, type SystemOptions } from './system.js'
export { spawnActor, tell, stopActor, isAlive, encodeActorName, ActorRef, type ActorContext, type ActorSpec, type Decision } from './actor.js'
export { ask } from './ask.js'
export type { Message, MessageType, ReplyTo, ReplyOf, Request } from './messages.js'
export { backoffMs, nextBackoffMs, type Backoff } from './backoff.js'
export { backoffDelay, CrashCounter, defaultRestartPolicy, type CrashDecision, type CrashInfo, type OnCrash, type RestartPolicy } from './supervision.js'
export { systemScheduler, type Scheduler, type Timer } from './clock.js'
export { silentLogger, type Logger, type LogFn } from './log.js'
