// A Compute Engine emulator: the REST (JSON) subset monk uses — instances insert/get/list/delete,
// instances setMetadata (fingerprint checked), zone and global operations (get, wait), firewalls get/insert — with GCE's error shapes and
// operation errors (QUOTA_EXCEEDED). Requests must carry a self-signed service-account JWT
// (RS256) that verifies against the emulator's key. Driven by the real @google-cloud/compute.
import { createVerify, generateKeyPairSync, randomBytes } from 'node:crypto'
import { Emulator, type EmuMachine, type Reply, type Request } from './http.js'
import type { MachineHost } from './machines.js'

export interface GceOptions {
  project: string
  zones?: string[]
  host?: MachineHost
}

interface Operation { id: string, name: string, zone: string | null, operationType: string, targetLink: string, status: 'RUNNING' | 'DONE', error?: { errors: Array<{ code: string, message: string }> }, httpErrorStatusCode?: number, httpErrorMessage?: string }

class GceError extends Error {
  constructor (readonly status: number, message: string, readonly reason: string) { super(message) }
}

const statusOf = { pending: 'PROVISIONING', running: 'RUNNING', stopping: 'STOPPING', terminated: 'TERMINATED' } as const

export class GceEmulator extends Emulator {
  readonly project: string
  private readonly zones: string[]
  private readonly key = generateKeyPairSync('rsa', { modulusLength: 2048 })
  private readonly keyId = randomBytes(20).toString('hex')
  private readonly email: string
  private readonly ops = new Map<string, Operation>()
  private readonly firewalls = new Map<string, Record<string, unknown>>()
  private readonly metadata = new Map<string, Record<string, unknown>>()
  private seq = 0

  constructor (o: GceOptions) {
    super(o.host)
    this.project = o.project
    this.zones = o.zones ?? ['us-central1-a', 'us-central1-b', 'europe-west1-b']
    this.email = `monk-test@${o.project}.iam.gserviceaccount.com`
  }

  /** A service-account key file (JSON) the emulator accepts. */
  serviceAccount (): string {
    return JSON.stringify({
      type: 'service_account', project_id: this.project, private_key_id: this.keyId,
      private_key: this.key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      client_email: this.email, client_id: '1000000000000', token_uri: 'https://oauth2.googleapis.com/token',
    }, null, 2)
  }

  /** Firewall rules created (`name` → resource). */
  firewallRules (): Array<Record<string, unknown>> { return [...this.firewalls.values()] }

  protected callName (r: Request): string { return `${r.method} ${r.path.replace(/^\/compute\/v1\/projects\/[^/]+\//, '')}` }

  protected internalError (): Reply { return this.err(new GceError(500, 'Internal error. Please try again or contact Google Support.', 'backendError')) }

  private err (e: GceError): Reply {
    return { status: e.status, type: 'application/json', body: JSON.stringify({ error: { code: e.status, message: e.message, errors: [{ message: e.message, domain: 'global', reason: e.reason }] } }) }
  }

  private ok (v: unknown): Reply { return { status: 200, type: 'application/json', body: JSON.stringify(v) } }

  protected async handle (r: Request): Promise<Reply> {
    try {
      this.authenticate(r)
      return await this.route(r)
    } catch (e) {
      if (e instanceof GceError) return this.err(e)
      throw e
    }
  }

  private authenticate (r: Request): void {
    const unauth = new GceError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.', 'authError')
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(String(r.headers.authorization ?? ''))
    if (!m) throw unauth
    const [, h, p, s] = m as unknown as [string, string, string, string]
    const v = createVerify('RSA-SHA256')
    v.update(`${h}.${p}`)
    if (!v.verify(this.key.publicKey, Buffer.from(s, 'base64url'))) throw unauth
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { iss?: string, exp?: number }
    if (claims.iss !== this.email || typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) throw unauth
  }

  private async route (r: Request): Promise<Reply> {
    const parts = r.path.split('/').filter(Boolean) // compute v1 projects P ...
    if (parts[0] !== 'compute' || parts[1] !== 'v1' || parts[2] !== 'projects') throw new GceError(404, `The requested URL ${r.path} was not found on this server.`, 'notFound')
    const project = parts[3] ?? ''
    if (project !== this.project) throw new GceError(404, `The resource 'projects/${project}' was not found`, 'notFound')
    const rest = parts.slice(4)
    if (rest[0] === 'global' && rest[1] === 'firewalls') return this.firewall(r, rest[2])
    if (rest[0] === 'global' && rest[1] === 'operations' && rest[2]) return await this.operation(rest[2], null, rest[3] === 'wait')
    if (rest[0] === 'zones' && rest[1]) {
      const zone = rest[1]
      if (!this.zones.includes(zone)) throw new GceError(404, `The resource 'projects/${project}/zones/${zone}' was not found`, 'notFound')
      if (rest[2] === 'operations' && rest[3]) return await this.operation(rest[3], zone, rest[4] === 'wait')
      if (rest[2] === 'instances' && rest[3] && rest[4] === 'setMetadata' && r.method === 'POST') return this.setMetadata(r, zone, rest[3])
      if (rest[2] === 'instances' && rest[4] === undefined) return await this.instances(r, zone, rest[3])
    }
    throw new GceError(404, `The requested URL ${r.path} was not found on this server.`, 'notFound')
  }

  private link (zone: string, name: string): string { return `https://www.googleapis.com/compute/v1/projects/${this.project}/zones/${zone}/instances/${name}` }

  private newOp (type: string, zone: string | null, target: string): Operation {
    const op: Operation = { id: String(++this.seq), name: `operation-${Date.now()}-${randomBytes(6).toString('hex')}`, zone, operationType: type, targetLink: target, status: 'RUNNING' }
    this.ops.set(op.name, op)
    return op
  }

  private opJson (op: Operation): Record<string, unknown> {
    const { zone: _zone, ...rest } = op
    return { kind: 'compute#operation', ...rest, ...(op.zone ? { zone: `https://www.googleapis.com/compute/v1/projects/${this.project}/zones/${op.zone}` } : {}), progress: op.status === 'DONE' ? 100 : 0, insertTime: new Date().toISOString() }
  }

  /** `get` answers at once; `wait` answers when the operation is DONE or after 30 s (as GCE does, with RUNNING). */
  private async operation (name: string, zone: string | null, wait: boolean): Promise<Reply> {
    const op = this.ops.get(name)
    if (!op || op.zone !== zone) throw new GceError(404, `The resource 'projects/${this.project}/${zone ? `zones/${zone}` : 'global'}/operations/${name}' was not found`, 'notFound')
    const deadline = Date.now() + 30_000
    while (wait && op.status !== 'DONE' && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    return this.ok(this.opJson(op))
  }

  private firewall (r: Request, name: string | undefined): Reply {
    if (r.method === 'GET' && name) {
      const f = this.firewalls.get(name)
      if (!f) throw new GceError(404, `The resource 'projects/${this.project}/global/firewalls/${name}' was not found`, 'notFound')
      return this.ok(f)
    }
    if (r.method === 'POST' && !name) {
      const f = JSON.parse(r.body) as Record<string, unknown>
      const n = String(f.name ?? '')
      if (this.firewalls.has(n)) throw new GceError(409, `The resource 'projects/${this.project}/global/firewalls/${n}' already exists`, 'alreadyExists')
      this.firewalls.set(n, { ...f, kind: 'compute#firewall', selfLink: `projects/${this.project}/global/firewalls/${n}` })
      const op = this.newOp('insert', null, `projects/${this.project}/global/firewalls/${n}`)
      op.status = 'DONE'
      return this.ok(this.opJson(op))
    }
    throw new GceError(405, `method ${r.method} not allowed`, 'badRequest')
  }

  /** The metadata of machine `id` now (tests check what a grown machine's metadata still carries). */
  metadataOf (id: string): Record<string, unknown> | undefined { return this.metadata.get(id) }

  private setMetadata (r: Request, zone: string, name: string): Reply {
    const m = [...this.machines.values()].find(x => x.zone === zone && x.name === name && x.state !== 'terminated')
    if (!m) throw new GceError(404, `The resource 'projects/${this.project}/zones/${zone}/instances/${name}' was not found`, 'notFound')
    const body = JSON.parse(r.body) as { fingerprint?: string, items?: unknown }
    const have = this.metadata.get(m.id) ?? {}
    if (body.fingerprint !== have.fingerprint) throw new GceError(412, 'Supplied fingerprint does not match current metadata fingerprint.', 'conditionNotMet')
    this.metadata.set(m.id, { items: Array.isArray(body.items) ? body.items : [], fingerprint: randomBytes(8).toString('base64') })
    const op = this.newOp('setMetadata', zone, this.link(zone, name))
    op.status = 'DONE'
    return this.ok(this.opJson(op))
  }

  private instanceJson (m: EmuMachine): Record<string, unknown> {
    return {
      kind: 'compute#instance', id: m.id, name: m.name, zone: `https://www.googleapis.com/compute/v1/projects/${this.project}/zones/${m.zone}`,
      machineType: `https://www.googleapis.com/compute/v1/projects/${this.project}/zones/${m.zone}/machineTypes/${m.type}`,
      status: statusOf[m.state], labels: m.tags, creationTimestamp: new Date(m.createdAt).toISOString(),
      metadata: this.metadata.get(m.id) ?? {},
      networkInterfaces: [{ networkIP: '127.0.0.1', accessConfigs: m.state === 'running' ? [{ name: 'External NAT', natIP: '127.0.0.1' }] : [] }],
      selfLink: this.link(m.zone ?? '', m.name),
    }
  }

  private async instances (r: Request, zone: string, name: string | undefined): Promise<Reply> {
    const byName = (n: string): EmuMachine | undefined => [...this.machines.values()].find(m => m.zone === zone && m.name === n && m.state !== 'terminated')
    if (r.method === 'GET' && !name) {
      const filter = r.query.get('filter') ?? ''
      const f = /^labels\.([a-z0-9_-]+)\s*=\s*"?([^"]*)"?$/.exec(filter.trim())
      const items = [...this.machines.values()].filter(m => m.zone === zone && m.state !== 'terminated' && (!f || m.tags[f[1]!] === f[2]))
      return this.ok({ kind: 'compute#instanceList', items: items.map(m => this.instanceJson(m)) })
    }
    if (r.method === 'GET' && name) {
      const m = byName(name)
      if (!m) throw new GceError(404, `The resource 'projects/${this.project}/zones/${zone}/instances/${name}' was not found`, 'notFound')
      return this.ok(this.instanceJson(m))
    }
    if (r.method === 'DELETE' && name) {
      const m = byName(name)
      if (!m) throw new GceError(404, `The resource 'projects/${this.project}/zones/${zone}/instances/${name}' was not found`, 'notFound')
      const op = this.newOp('delete', zone, this.link(zone, name))
      void this.terminate(m).then(() => { op.status = 'DONE' })
      return this.ok(this.opJson(op))
    }
    if (r.method === 'POST' && !name) {
      const body = JSON.parse(r.body) as { name?: string, machineType?: string, labels?: Record<string, string>, metadata?: { items?: Array<{ key: string, value: string }> } }
      const n = body.name ?? ''
      if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n)) throw new GceError(400, `Invalid value for field 'resource.name': '${n}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`, 'invalid')
      if (byName(n)) throw new GceError(409, `The resource 'projects/${this.project}/zones/${zone}/instances/${n}' already exists`, 'alreadyExists')
      const type = /machineTypes\/([a-z0-9-]+)$/.exec(body.machineType ?? '')?.[1]
      if (!type) throw new GceError(400, `Invalid value for field 'resource.machineType': '${body.machineType ?? ''}'. Machine type must be specified.`, 'invalid')
      const op = this.newOp('insert', zone, this.link(zone, n))
      if (!this.withinQuota(1)) {
        op.status = 'DONE'
        op.httpErrorStatusCode = 403
        op.httpErrorMessage = 'FORBIDDEN'
        op.error = { errors: [{ code: 'QUOTA_EXCEEDED', message: `Quota 'INSTANCES' exceeded.  Limit: ${this.faults.quota ?? 0}.0 in region ${zone.replace(/-[a-z]$/, '')}.` }] }
        return this.ok(this.opJson(op))
      }
      const script = body.metadata?.items?.find(i => i.key === 'startup-script')?.value ?? ''
      const m: EmuMachine = { id: String(4_000_000_000_000 + ++this.seq), name: n, state: 'pending', region: zone.replace(/-[a-z]$/, ''), zone, type, tags: body.labels ?? {}, userData: script, createdAt: Date.now() }
      this.machines.set(m.id, m)
      this.metadata.set(m.id, { ...(body.metadata ?? {}), fingerprint: randomBytes(8).toString('base64') })
      setImmediate(() => {
        try { this.boot(m) } catch { m.state = 'running' }
        op.status = 'DONE'
      })
      return this.ok(this.opJson(op))
    }
    throw new GceError(405, `method ${r.method} not allowed`, 'badRequest')
  }
}
