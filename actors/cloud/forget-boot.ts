// Once a grown machine has joined, the first-boot data that carried its join token is removed from
// the cloud where the cloud keeps it readable for the machine's whole life (gcp: the
// `startup-script` metadata; Provider.forgetBoot). The driver of the node does it when the node
// enters `joined`, and retries on every scan until the provider accepts (kept in memory: a driver
// restarted in between does not retry; the invite in that token was single-use and is spent).
import type { Logger } from '../kit/index.js'
import type { MachineRef, Provider, ProviderKind } from './provider.js'

export class BootForgetter {
  private readonly due = new Map<string, { kind: ProviderKind, ref: MachineRef }>()
  private running = false

  constructor (private readonly providerOf: (kind: ProviderKind) => Promise<Provider>, private readonly log: Logger) {}

  /** Node `name` (machine `ref` of `kind`) has joined: forget its boot data. */
  add (name: string, kind: ProviderKind, ref: MachineRef): void {
    this.due.set(name, { kind, ref })
    void this.run()
  }

  get pending (): number { return this.due.size }

  async run (): Promise<void> {
    if (this.running || this.due.size === 0) return
    this.running = true
    try {
      for (const [name, { kind, ref }] of [...this.due]) {
        try {
          const p = await this.providerOf(kind)
          if (p.forgetBoot) {
            await p.forgetBoot(ref)
            this.log.info({ node: name, provider: kind }, `cloud: removed the first-boot data (join token) of ${name} from ${kind}`)
          }
          this.due.delete(name)
        } catch (err) {
          this.log.warn({ node: name, provider: kind, err: String((err as Error).message) }, `cloud: cannot remove the first-boot data of ${name} from ${kind} yet (retrying)`)
        }
      }
    } finally { this.running = false }
  }
}
