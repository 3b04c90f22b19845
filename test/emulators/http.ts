// The part every cloud emulator shares: an HTTP server on 127.0.0.1, the injected faults, a log of
// the API calls received, the machine host that boots monkd from user data, and a quota counter.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MachineHost } from './machines.js'

/** Faults a test can inject; every field can be changed at any time. */
export interface Faults {
  /** Most machines that may exist (not terminated) at once; a create beyond it fails with the cloud's quota error. */
  quota: number | null
  /** The next N API requests fail with the cloud's internal error (HTTP 500). */
  fail500: number
  /** Every API request fails with HTTP 500 (a cloud outage) until turned off. */
  outage: boolean
  /** Delay between a create and the machine's monkd starting (a slow boot). */
  bootDelayMs: number
  /** Machines run but their monkd never starts (they never join). */
  neverJoin: boolean
  /** Extra latency of every API answer. */
  latencyMs: number
}

export const noFaults = (): Faults => ({ quota: null, fail500: 0, outage: false, bootDelayMs: 0, neverJoin: false, latencyMs: 0 })

export interface Request { method: string, path: string, query: URLSearchParams, headers: IncomingMessage['headers'], body: string }
export interface Reply { status: number, type: string, body: string }

/** A machine as every emulator keeps it. */
export interface EmuMachine {
  id: string
  name: string
  state: 'pending' | 'running' | 'stopping' | 'terminated'
  region: string
  zone: string | null
  type: string
  tags: Record<string, string>
  userData: string
  createdAt: number
}

export abstract class Emulator {
  readonly faults: Faults = noFaults()
  /** Every API call received, `Action` or `METHOD path`, in order. */
  readonly calls: string[] = []
  readonly host: MachineHost
  protected readonly machines = new Map<string, EmuMachine>()
  private server: Server | null = null
  private port = 0

  constructor (host?: MachineHost) {
    this.host = host ?? new MachineHost()
  }

  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  get url (): string { return `http://127.0.0.1:${this.port}` }

  async start (): Promise<this> {
    this.server = createServer((req, res) => { void this.onRequest(req, res) })
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  /** Machines not terminated. */
  live (): EmuMachine[] { return [...this.machines.values()].filter(m => m.state !== 'terminated') }

  /** Every machine, terminated ones included. */
  all (): EmuMachine[] { return [...this.machines.values()] }

  /** Kills the machines' processes and stops the server. */
  async close (): Promise<void> {
    await new Promise<void>(resolve => { if (this.server) this.server.close(() => resolve()); else resolve() })
    this.server?.closeAllConnections()
    await this.host.close()
  }

  /** Power loss of a machine: its monkd is SIGKILLed, the cloud still lists it as running. */
  crash (id: string): void { this.host.crash(id) }

  protected abstract handle (r: Request): Promise<Reply> | Reply
  /** The cloud's own answer to a 500 fault. */
  protected abstract internalError (): Reply
  /** A short name of the call for `calls`. */
  protected abstract callName (r: Request): string

  /** Whether a create of `n` more machines stays within the quota. */
  protected withinQuota (n: number): boolean {
    return this.faults.quota === null || this.live().length + n <= this.faults.quota
  }

  /** Boots a machine's monkd (or not, per the faults). */
  protected boot (m: EmuMachine): void {
    this.host.boot(m.id, m.userData, { delayMs: this.faults.bootDelayMs, neverJoin: this.faults.neverJoin })
    m.state = 'running'
  }

  protected async terminate (m: EmuMachine): Promise<void> {
    if (m.state === 'terminated') return
    m.state = 'stopping'
    await this.host.kill(m.id)
    m.state = 'terminated'
  }

  private async onRequest (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const url = new URL(req.url ?? '/', 'http://x')
    const r: Request = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
    let reply: Reply
    try {
      this.calls.push(this.callName(r))
      if (this.faults.latencyMs > 0) await new Promise(resolve => setTimeout(resolve, this.faults.latencyMs))
      if (this.faults.outage || this.faults.fail500 > 0) {
        if (this.faults.fail500 > 0) this.faults.fail500--
        reply = this.internalError()
      } else {
        reply = await this.handle(r)
      }
    } catch (err) {
      reply = { ...this.internalError(), body: this.internalError().body.replace('internal', `internal (emulator bug: ${(err as Error).message})`) }
    }
    res.writeHead(reply.status, { 'content-type': reply.type, 'content-length': Buffer.byteLength(reply.body) })
    res.end(reply.body)
  }
}
