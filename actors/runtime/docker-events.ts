// The Docker engine's container events as RuntimeEvents: one `GET /events` stream, reconnected
// after dockerd restarts (or a broken connection) and replayed from the last event seen, without
// repeating the events seen before the reconnect.
import type { Readable } from 'node:stream'
import { EVENTS_RECONNECT_MS } from './defaults.js'
import { LineSplitter } from './lines.js'
import type { Labels, RuntimeEvent } from './runtime.js'

export class EngineEvents {
  private current: Readable | undefined
  private closed = false
  private lastNano = 0n
  private replayedUntil = 0n
  private timer: NodeJS.Timeout | undefined

  /** `open(since)` opens the engine's event stream (since: seconds); `push` gets each event. */
  constructor (private readonly open: (since?: number) => Promise<Readable>, private readonly push: (ev: RuntimeEvent) => void) {}

  close (): void {
    this.closed = true
    clearTimeout(this.timer)
    this.current?.destroy()
  }

  async connect (since?: number): Promise<void> {
    const stream = await this.open(since)
    if (this.closed) { stream.destroy(); return }
    this.current = stream
    const split = new LineSplitter(1024 * 1024)
    stream.on('data', (chunk: Buffer) => {
      for (const line of split.push(chunk)) {
        if (line.trim() === '') continue
        let raw: DockerEvent
        try { raw = JSON.parse(line) as DockerEvent } catch { continue }
        // timeNano exceeds 2^53: read it from the text, exactly.
        const nano = BigInt(/"timeNano":(\d+)/.exec(line)?.[1] ?? '0')
        if (nano !== 0n && nano <= this.replayedUntil) continue // seen before the reconnect
        if (nano > this.lastNano) this.lastNano = nano
        const ev = toEvent(raw)
        if (ev) this.push(ev)
      }
    })
    const ended = (): void => {
      if (this.closed || this.current !== stream) return
      this.current = undefined
      // dockerd restarted (or the connection broke): reconnect and replay from the last event seen.
      const retry = (): void => {
        if (this.closed) return
        this.replayedUntil = this.lastNano
        const sinceS = this.lastNano > 0n ? Number(this.lastNano / 1_000_000_000n) : Math.floor(Date.now() / 1000)
        this.connect(sinceS).catch(() => { this.timer = setTimeout(retry, EVENTS_RECONNECT_MS) })
      }
      this.timer = setTimeout(retry, EVENTS_RECONNECT_MS)
    }
    stream.on('end', ended)
    stream.on('close', ended)
    stream.on('error', ended)
  }
}

interface DockerEvent {
  Type?: string
  Action?: string
  status?: string
  id?: string
  timeNano?: number
  time?: number
  Actor?: { ID?: string, Attributes?: Record<string, string> }
}

const ACTIONS: Record<string, RuntimeEvent['type']> = { create: 'created', start: 'started', die: 'died', stop: 'stopped', destroy: 'removed', oom: 'oom' }
/** Attributes Docker mixes into a container event besides its labels. */
const NOT_LABELS = new Set(['name', 'image', 'exitCode', 'signal', 'execID', 'execDuration'])

function toEvent (raw: DockerEvent): RuntimeEvent | undefined {
  const type = ACTIONS[raw.Action ?? raw.status ?? '']
  if (!type) return undefined
  const attrs = raw.Actor?.Attributes ?? {}
  const labels: Labels = {}
  for (const [k, v] of Object.entries(attrs)) if (!NOT_LABELS.has(k)) labels[k] = v
  const ms = raw.timeNano ? Math.floor(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000
  const ev: RuntimeEvent = { type, id: raw.Actor?.ID ?? raw.id ?? '', name: attrs['name'] ?? '', labels, time: new Date(ms || Date.now()) }
  if (type === 'died' && attrs['exitCode'] !== undefined) ev.exitCode = Number(attrs['exitCode'])
  return ev
}
