// A DigitalOcean API v2 emulator: droplets create/get/list (by tag)/delete and firewalls list/create,
// JSON bodies and DigitalOcean's error shape ({id, message}), bearer-token auth. Driven by the real
// dots-wrapper client with `endpoint`.
import { randomBytes } from 'node:crypto'
import { Emulator, type EmuMachine, type Reply, type Request } from './http.js'
import type { MachineHost } from './machines.js'

export interface DoOptions {
  token: string
  regions?: string[]
  sshKeys?: string[]
  host?: MachineHost
}

class DoError extends Error {
  constructor (readonly status: number, readonly id: string, message: string) { super(message) }
}

const statusOf = { pending: 'new', running: 'active', stopping: 'off', terminated: 'archive' } as const

export class DoEmulator extends Emulator {
  private readonly o: Required<Omit<DoOptions, 'host'>>
  private readonly fws = new Map<string, Record<string, unknown>>()
  private seq = 0

  constructor (o: DoOptions) {
    super(o.host)
    this.o = { regions: ['nyc3', 'ams3', 'fra1', 'sfo3'], sshKeys: [], ...o }
  }

  firewalls (): Array<Record<string, unknown>> { return [...this.fws.values()] }

  protected callName (r: Request): string { return `${r.method} ${r.path.replace(/^\/v2\//, '').replace(/\d{6,}/, '{id}')}` }

  protected internalError (): Reply { return this.err(new DoError(500, 'server_error', 'Server was unable to give you a response.')) }

  private err (e: DoError): Reply {
    return { status: e.status, type: 'application/json', body: JSON.stringify({ id: e.id, message: e.message, request_id: randomBytes(8).toString('hex') }) }
  }

  private json (status: number, v: unknown): Reply { return { status, type: 'application/json', body: JSON.stringify(v) } }

  protected async handle (r: Request): Promise<Reply> {
    try {
      if (String(r.headers.authorization ?? '') !== `Bearer ${this.o.token}`) throw new DoError(401, 'Unauthorized', 'Unable to authenticate you')
      const parts = r.path.split('/').filter(Boolean)
      if (parts[0] !== 'v2') throw new DoError(404, 'not_found', 'The resource you were accessing could not be found.')
      if (parts[1] === 'droplets') return this.droplets(r, parts[2])
      if (parts[1] === 'firewalls') return this.firewall(r)
      throw new DoError(404, 'not_found', 'The resource you were accessing could not be found.')
    } catch (e) {
      if (e instanceof DoError) return this.err(e)
      throw e
    }
  }

  private droplet (m: EmuMachine): Record<string, unknown> {
    return {
      id: Number(m.id), name: m.name, memory: 2048, vcpus: 1, disk: 50, locked: false, status: statusOf[m.state], created_at: new Date(m.createdAt).toISOString(),
      size_slug: m.type, region: { slug: m.region, name: m.region, available: true }, tags: Object.keys(m.tags), image: { slug: 'ubuntu-22-04-x64' },
      networks: { v4: m.state === 'running' ? [{ ip_address: '127.0.0.1', type: 'public', netmask: '255.0.0.0', gateway: '127.0.0.1' }] : [], v6: [] },
      volume_ids: [], snapshot_ids: [], backup_ids: [], features: [], vpc_uuid: 'vpc-emu',
    }
  }

  private droplets (r: Request, id: string | undefined): Reply {
    const find = (id: string): EmuMachine => {
      const m = this.machines.get(id)
      if (!m || m.state === 'terminated') throw new DoError(404, 'not_found', 'The resource you were accessing could not be found.')
      return m
    }
    if (r.method === 'GET' && id) return this.json(200, { droplet: this.droplet(find(id)) })
    if (r.method === 'GET') {
      const tag = r.query.get('tag_name')
      const page = Number(r.query.get('page') ?? '1')
      const per = Number(r.query.get('per_page') ?? '20')
      const all = [...this.machines.values()].filter(m => m.state !== 'terminated' && (tag === null || tag in m.tags))
      const slice = all.slice((page - 1) * per, page * per)
      return this.json(200, { droplets: slice.map(m => this.droplet(m)), links: page * per < all.length ? { pages: { next: `${r.path}?page=${page + 1}` } } : {}, meta: { total: all.length } })
    }
    if (r.method === 'DELETE' && id) {
      const m = find(id)
      void this.terminate(m)
      return { status: 204, type: 'application/json', body: '' }
    }
    if (r.method === 'POST' && !id) {
      const b = JSON.parse(r.body) as { name?: string, region?: string, size?: string, image?: string, tags?: string[], user_data?: string, ssh_keys?: Array<string | number> }
      const name = b.name ?? ''
      if (!/^[a-zA-Z0-9.-]+$/.test(name)) throw new DoError(422, 'unprocessable_entity', 'Name Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)')
      if (!this.o.regions.includes(b.region ?? '')) throw new DoError(422, 'unprocessable_entity', 'Region is not available')
      if (!/^s-\d+vcpu-\d+gb/.test(b.size ?? '')) throw new DoError(422, 'unprocessable_entity', 'Size is not available in this region.')
      for (const k of b.ssh_keys ?? []) if (!this.o.sshKeys.includes(String(k))) throw new DoError(422, 'unprocessable_entity', 'ssh_keys are invalid')
      for (const t of b.tags ?? []) if (!/^[a-zA-Z0-9_:-]{1,255}$/.test(t)) throw new DoError(422, 'unprocessable_entity', `tag name "${t}" is invalid: tags may contain letters, numbers, colons, dashes, and underscores`)
      if (!this.withinQuota(1)) throw new DoError(422, 'unprocessable_entity', 'creating this/these droplet(s) will exceed your droplet limit')
      const tags: Record<string, string> = {}
      for (const t of b.tags ?? []) tags[t] = ''
      const m: EmuMachine = { id: String(300_000_000 + ++this.seq), name, state: 'pending', region: b.region ?? '', zone: null, type: b.size ?? '', tags, userData: b.user_data ?? '', createdAt: Date.now() }
      this.machines.set(m.id, m)
      setImmediate(() => { try { this.boot(m) } catch { m.state = 'running' } })
      return this.json(202, { droplet: this.droplet(m), links: { actions: [{ id: 1, rel: 'create', href: `${r.path}/actions/1` }] } })
    }
    throw new DoError(405, 'method_not_allowed', 'method not allowed')
  }

  private firewall (r: Request): Reply {
    if (r.method === 'GET') return this.json(200, { firewalls: [...this.fws.values()], links: {}, meta: { total: this.fws.size } })
    if (r.method === 'POST') {
      const b = JSON.parse(r.body) as Record<string, unknown>
      if ([...this.fws.values()].some(f => f.name === b.name)) throw new DoError(409, 'conflict', 'a firewall with this name already exists')
      const f = { ...b, id: randomBytes(16).toString('hex'), status: 'succeeded', created_at: new Date().toISOString(), pending_changes: [] }
      this.fws.set(String(f.id), f)
      return this.json(202, { firewall: f })
    }
    throw new DoError(405, 'method_not_allowed', 'method not allowed')
  }
}
