// The cluster's cloud side on one peer: answers grow/shrink/peer-remove/providers requests, runs a
// node actor for every `node/<name>` record this peer drives, takes over the nodes of a dead
// driver (the live eligible peer ranked first by rendezvous hash of the node name), and shares
// provider credentials with the peers that may drive nodes (peers that are not grown machines).
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { encodeToken, parseToken } from '../mesh/cluster.js'
import type { Mesh } from '../mesh/mesh.js'
import { bootstrap } from './cloud/bootstrap.js'
import { checkCredentials, decodeProvider, fingerprint, providerKey, SealKey, sealFor, type Envelope, type ProviderRecord } from './cloud/credentials.js'
import * as D from './cloud/defaults.js'
import { CredentialsError, GrowError } from './cloud/errors.js'
import { BootForgetter } from './cloud/forget-boot.js'
import type { MonkdCommand } from './cloud/local.js'
import { autoTags, isProviderKind, nodeNamePattern, providerKinds, tagPattern, type Credentials, type MachineSpec, type Provider, type ProviderKind, type ProviderOptions } from './cloud/provider.js'
import { openProvider } from './cloud/registry.js'
import type { GrowRequest, NodeRow, PeerRemoveRequest, ProviderRow, ShrinkRequest } from './cloud/rows.js'
import { nodeRows, pickPeerRemove, pickShrink } from './cloud/select.js'
import { spawnActor, startSystem, tell, type ActorRef, type ActorSystem, type Logger } from './kit/index.js'
import { decodeDrain, decodeNode, defaultNodeConfig, needsDriver, newNode, nodeKey, nodeOpKey, runTick, type NodeConfig, type NodeRecord } from './node.js'
import { decodePeer, toValue } from './state.js'
import { isObj, sameData } from './values.js'

export interface CloudManagerOptions {
  home: string
  mesh: Mesh
  log: Logger
  /** How this host starts monkd (the local provider). */
  monkd?: MonkdCommand
  now?: () => number
  nodeConfig?: Partial<NodeConfig>
  tickMs?: number
  takeoverGraceMs?: number
}

export type { GrowRequest, NodeRow, PeerRemoveRequest, ProviderRow, ShrinkRequest } from './cloud/rows.js'

type NodeMsg = { type: 'node.tick' }


export class CloudManager {
  private readonly self: string
  private readonly seal: SealKey
  private readonly forgetter: BootForgetter
  private readonly system: ActorSystem
  private readonly actors = new Map<string, ActorRef<NodeMsg>>()
  private readonly queued = new Set<string>()
  private readonly providers = new Map<string, { key: string, provider: Promise<Provider> }>()
  private readonly cfg: NodeConfig
  private readonly now: () => number
  private readonly startedAt: number
  private readonly unsubscribe: Array<() => void> = []
  private timer: NodeJS.Timeout | null = null
  private scanTimer: NodeJS.Timeout | null = null
  private stopped = false

  private constructor (private readonly o: CloudManagerOptions) {
    this.self = o.mesh.peerId
    this.seal = SealKey.open(o.home)
    this.forgetter = new BootForgetter(kind => this.provider(kind), o.log)
    this.system = startSystem(`cloud-${this.self.slice(-8)}`, { logger: o.log })
    this.cfg = { ...defaultNodeConfig, ...o.nodeConfig }
    this.now = o.now ?? Date.now
    this.startedAt = this.now()
  }

  static async start (o: CloudManagerOptions): Promise<CloudManager> {
    const m = new CloudManager(o)
    await o.mesh.announce({ sealKey: m.seal.publicRaw })
    for (const prefix of ['node/', 'nodeop/', 'peer/', 'provider/']) m.unsubscribe.push(o.mesh.onChange(prefix, () => m.scheduleScan()))
    m.unsubscribe.push(o.mesh.onPeerUp(() => m.scheduleScan()), o.mesh.onPeerDown(() => m.scheduleScan()))
    m.timer = setInterval(() => m.scan(), o.tickMs ?? D.TICK_MS)
    m.scheduleScan()
    return m
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    if (this.scanTimer) clearTimeout(this.scanTimer)
    for (const u of this.unsubscribe) u()
    this.system.stop()
    for (const { provider } of this.providers.values()) await provider.then(p => p.close()).catch(() => {})
  }

  // ---- the loop ----

  private scheduleScan (): void {
    if (this.stopped || this.scanTimer) return
    this.scanTimer = setTimeout(() => { this.scanTimer = null; this.scan() }, 10)
  }

  private scan (): void {
    if (this.stopped || !this.o.mesh.synced) return
    try {
      for (const { value } of this.o.mesh.scan('node/')) {
        const r = decodeNode(value)
        if (!r) continue
        const drain = decodeDrain(this.o.mesh.get(nodeOpKey(r.name)))
        if (!needsDriver(r, drain)) continue
        if (r.driver === this.self || this.shouldTakeOver(r)) this.actorFor(r.name)
      }
      void this.forgetter.run()
      void this.shareCredentials().catch(err => this.o.log.warn({ err: String((err as Error).message) }, 'cloud: sharing provider credentials failed'))
    } catch (err) {
      this.o.log.error({ err: String((err as Error).message) }, 'cloud: scan failed')
    }
  }

  /** Ticks node `name` in its actor; at most one tick waits in its mailbox (a slow cloud call must not pile them up). */
  private actorFor (name: string): void {
    let ref = this.actors.get(name)
    if (!ref) {
      ref = spawnActor<null, NodeMsg>(this.system, `node:${name}`, {
        initialState: null,
        handle: async s => { this.queued.delete(name); await this.drive(name); return s },
      })
      this.actors.set(name, ref)
    }
    if (this.queued.has(name)) return
    this.queued.add(name)
    tell(ref, { type: 'node.tick' })
  }

  /** True when `r`'s driver is gone and this peer is the one to take over. */
  private shouldTakeOver (r: NodeRecord): boolean {
    const m = this.o.mesh
    if (this.now() - this.startedAt < (this.o.takeoverGraceMs ?? D.TAKEOVER_GRACE_MS)) return false
    const info = m.peers().find(p => p.id === r.driver)
    const gone = info === undefined || info.state === 'dead' || info.state === 'left' || info.state === 'unknown'
    if (!gone) return false
    const candidates = m.alive().filter(id => this.mayDrive(id, r.provider) && this.peerName(id) !== r.name)
    if (!candidates.includes(this.self)) return false
    const rank = (id: string): string => createHash('sha256').update(`${r.name}\u0000${id}`).digest('hex')
    const winner = candidates.sort((a, b) => rank(a) < rank(b) ? 1 : -1)[0]
    return winner === this.self
  }

  /** A peer may drive nodes of `kind` if it holds the credentials (local: any peer) and is not a grown machine. */
  private mayDrive (peer: string, kind: ProviderKind): boolean {
    if (this.grownNames().has(this.peerName(peer))) return false
    if (kind === 'local') return true
    const rec = decodeProvider(this.o.mesh.get(providerKey(kind)))
    return rec !== undefined && rec.envelopes[peer] !== undefined
  }

  /** Names of every machine this cluster ever grew (a peer with such a name is a grown machine, whatever its node's state). */
  private grownNames (): Set<string> {
    const out = new Set<string>()
    for (const { key } of this.o.mesh.scan('node/')) out.add(key.slice('node/'.length))
    return out
  }

  private peerName (id: string): string {
    return decodePeer(this.o.mesh.get(`peer/${id}`)).name
  }

  /** The live peer called `name`, if any. */
  private livePeerNamed (name: string): string | null {
    for (const p of this.o.mesh.peers()) {
      if (!(p.self || p.state === 'alive')) continue
      if (decodePeer(p.record).name === name) return p.id
    }
    return null
  }

  /** One tick of node `name` (inside its actor: ticks of one node never overlap). */
  private async drive (name: string): Promise<void> {
    if (this.stopped) return
    const r = decodeNode(this.o.mesh.get(nodeKey(name)))
    if (!r) return
    const drain = decodeDrain(this.o.mesh.get(nodeOpKey(name)))
    if (!needsDriver(r, drain)) return
    if (r.driver !== this.self && !this.shouldTakeOver(r)) return
    if (r.driver !== this.self) this.o.log.info({ node: name, from: r.driver }, `cloud: taking over node ${name} (its driver ${r.driver} is gone)`)
    const next = await runTick(r, { now: this.now(), joined: this.livePeerNamed(name), drain }, {
      self: this.self,
      cluster: this.o.mesh.clusterId,
      cfg: this.cfg,
      now: this.now,
      provider: () => this.provider(r.provider),
      machineSpec: rec => this.machineSpec(rec),
    })
    if (this.stopped) return
    const current = decodeNode(this.o.mesh.get(nodeKey(name)))
    // someone else took over while this tick ran: their record stands
    if (current && current.driver !== this.self && current.driver !== r.driver) return
    if (sameData(next, current)) return
    if (next.state !== r.state) {
      const how = next.state === 'failed' ? `: ${next.error?.code ?? ''}: ${next.error?.message ?? ''}` : next.cloudId ? ` (${next.cloudId})` : ''
      this.o.log.info({ node: name, provider: r.provider, from: r.state, to: next.state }, `cloud: node ${name} ${r.state} → ${next.state}${how}`)
    }
    await this.o.mesh.put(nodeKey(name), toValue(next))
    if (next.state === 'joined' && r.state !== 'joined' && next.cloudId !== null) this.forgetter.add(name, next.provider, { id: next.cloudId, region: next.spec.region, zone: next.spec.zone })
    if (next.state === 'gone' && drain !== null) await this.o.mesh.delete(nodeOpKey(name))
    // the next step is due at once (e.g. requested → creating): do not wait for the timer
    if (needsDriver(next, next.state === 'gone' ? null : drain) && next.state !== r.state) this.actorFor(name)
  }

  private async machineSpec (r: NodeRecord): Promise<MachineSpec> {
    const rec = decodeProvider(this.o.mesh.get(providerKey(r.provider)))
    const where = { region: r.spec.region, zone: r.spec.zone }
    const tags = [...new Set([...r.spec.tags, ...autoTags(r.provider, where)])]
    return {
      name: r.name, cluster: this.o.mesh.clusterId, ...where,
      instanceType: r.spec.instanceType, diskGb: r.spec.diskGb, image: r.spec.image, keyPair: r.spec.keyPair, p2pPort: D.P2P_PORT,
      boot: bootstrap({ name: r.name, tags, join: await this.joinToken(), ...(rec?.options.package ? { package: rec.options.package } : {}) }),
      // one token per node and grow: a retried or taken-over create is the same request to the cloud
      idempotencyToken: `monk-${createHash('sha256').update(`${this.o.mesh.clusterId}/${r.growId}/${r.name}`).digest('hex').slice(0, 40)}`,
    }
  }

  /**
   * The join token a new machine boots with: this peer's addresses plus those of the other live
   * operator peers, so the machine can still join if this peer dies before it boots.
   */
  private async joinToken (): Promise<string> {
    // a single-use worker invite: the user data, read later, admits nobody
    const t = parseToken(await this.o.mesh.invite({ role: 'worker', uses: 1, ttlMs: D.GROW_INVITE_TTL_MS }))
    const grown = this.grownNames()
    const more: string[] = []
    for (const id of this.o.mesh.alive()) {
      if (id === this.self) continue
      const rec = decodePeer(this.o.mesh.get(`peer/${id}`))
      if (grown.has(rec.name)) continue
      for (const a of rec.addrs) if (!a.includes('/0.0.0.0/') && !a.includes('/::/') && more.length < 8) more.push(`${a}/p2p/${id}`)
    }
    return encodeToken({ ...t, bootstrap: [...t.bootstrap, ...more] })
  }

  /** The provider of `kind` with this peer's copy of the credentials (reopened when they change). */
  private async provider (kind: ProviderKind): Promise<Provider> {
    const rec = decodeProvider(this.o.mesh.get(providerKey(kind)))
    if (!rec) throw new CredentialsError('no-credentials', `no ${kind} provider in this cluster: run monk cluster provider add ${kind}`)
    const key = `${rec.fingerprint}/${JSON.stringify(rec.options)}`
    const have = this.providers.get(kind)
    if (have && have.key === key) return await have.provider
    if (have) void have.provider.then(p => p.close()).catch(() => {})
    let creds: Credentials = {}
    if (kind !== 'local') {
      const env = rec.envelopes[this.self]
      if (!env) throw new CredentialsError('credentials-sealed-elsewhere', `this peer holds no ${kind} credentials (held by ${Object.keys(rec.envelopes).map(id => this.peerName(id) || id).join(', ')})`)
      creds = this.seal.open(kind, this.self, env)
    }
    const provider = openProvider(kind, creds, rec.options, this.o.monkd ? { monkd: this.o.monkd } : {})
    provider.catch(() => this.providers.delete(kind))
    this.providers.set(kind, { key, provider })
    return await provider
  }

  // ---- credentials ----

  /** Peers that should hold credentials: alive, publishing a seal key, not grown machines. */
  private credentialPeers (): Array<{ id: string, key: Uint8Array }> {
    const grown = this.grownNames()
    const out: Array<{ id: string, key: Uint8Array }> = []
    for (const id of this.o.mesh.alive()) {
      const rec = this.o.mesh.get(`peer/${id}`)
      if (!isObj(rec) || !(rec.sealKey instanceof Uint8Array) || rec.sealKey.length !== 32) continue
      if (grown.has(decodePeer(rec).name)) continue
      // credentials go to operators only (a worker, or a peer never admitted, gets none)
      if (this.o.mesh.roleOf(id) !== 'operator') continue
      out.push({ id, key: rec.sealKey })
    }
    return out
  }

  /** Seals each provider's credentials for eligible peers that lack a copy (done by the first live holder). */
  private async shareCredentials (): Promise<void> {
    for (const kind of providerKinds) {
      if (kind === 'local') continue
      const rec = decodeProvider(this.o.mesh.get(providerKey(kind)))
      if (!rec || rec.envelopes[this.self] === undefined) continue
      const alive = new Set(this.o.mesh.alive())
      // the first live holder that may still hold them: a holder whose operator role was revoked
      // must not be the one that keeps (or withdraws) the copies, or its own copy stays for good
      const firstHolder = Object.keys(rec.envelopes).filter(id => alive.has(id) && this.o.mesh.roleOf(id) === 'operator').sort()[0]
      if (firstHolder !== this.self) continue
      const missing = this.credentialPeers().filter(p => rec.envelopes[p.id] === undefined)
      // a grown machine never holds credentials (it could only have got them from an older monk)
      const grown = this.grownNames()
      const extra = Object.keys(rec.envelopes).filter(id => id !== this.self && (grown.has(this.peerName(id)) || this.o.mesh.roleOf(id) !== 'operator'))
      if (missing.length === 0 && extra.length === 0) continue
      const creds = this.seal.open(kind, this.self, rec.envelopes[this.self]!)
      const envelopes: Record<string, Envelope> = { ...rec.envelopes }
      for (const id of extra) delete envelopes[id]
      for (const p of missing) envelopes[p.id] = sealFor(kind, p.id, p.key, creds)
      await this.o.mesh.put(providerKey(kind), toValue({ ...rec, envelopes }))
      if (missing.length > 0) this.o.log.info({ provider: kind, peers: missing.map(p => p.id) }, `cloud: shared the ${kind} credentials with ${missing.length} peer(s)`)
      if (extra.length > 0) this.o.log.warn({ provider: kind, peers: extra }, `cloud: withdrew the ${kind} credentials from ${extra.length} grown machine(s)`)
    }
  }

  // ---- requests ----

  /** `cluster.provider-add`: checks the credentials against the provider, then stores them sealed for every eligible peer. */
  async providerAdd (kind: string, credentials: Credentials, options: Record<string, string>): Promise<ProviderRow> {
    if (!isProviderKind(kind)) throw new GrowError('unknown-provider', `unknown provider "${kind}" (known: ${providerKinds.join(', ')})`)
    const creds = checkCredentials(kind, credentials)
    const opts: Record<string, string> = {}
    for (const [k, v] of Object.entries(options)) if (['endpoint', 'project', 'package', 'dir', 'runtime', 'region'].includes(k) && v !== '') opts[k] = v
    if (kind === 'local' && opts.dir === undefined) opts.dir = join(this.o.home, 'machines')
    // a cheap authenticated call: wrong credentials are refused now, not at the first grow
    const probe = await openProvider(kind, creds, opts, this.o.monkd ? { monkd: this.o.monkd } : {})
    try {
      const region = opts.region ?? D.REGION[kind]!
      await probe.list(this.o.mesh.clusterId, { region, zone: kind === 'gcp' ? `${region}${D.ZONE_SUFFIX}` : null })
    } finally { await probe.close() }
    const envelopes: Record<string, Envelope> = {}
    if (kind !== 'local') {
      const peers = this.credentialPeers()
      if (!peers.some(p => p.id === this.self)) peers.push({ id: this.self, key: this.seal.publicRaw })
      for (const p of peers) envelopes[p.id] = sealFor(kind, p.id, p.key, creds)
    }
    const rec: ProviderRecord = { v: 1, kind, options: opts, fingerprint: fingerprint(creds), envelopes, addedAt: this.now(), addedBy: this.self }
    await this.o.mesh.put(providerKey(kind), toValue(rec))
    this.o.log.info({ provider: kind, fingerprint: rec.fingerprint, holders: Object.keys(envelopes).length }, `cloud: ${kind} provider added`)
    return this.providerRow(rec)
  }

  private providerRow (rec: ProviderRecord): ProviderRow {
    const nodes = this.o.mesh.scan('node/').map(e => decodeNode(e.value)).filter(r => r?.provider === rec.kind && r.state !== 'gone').length
    return { kind: rec.kind, options: rec.options, fingerprint: rec.fingerprint, holders: Object.keys(rec.envelopes).map(id => this.peerName(id) || id), nodes, addedAt: rec.addedAt }
  }

  providersList (): ProviderRow[] {
    return providerKinds.map(k => decodeProvider(this.o.mesh.get(providerKey(k)))).filter((r): r is ProviderRecord => r !== undefined).map(r => this.providerRow(r))
  }

  /** `cluster.grow`: writes one `node/<name>-<i>` record per machine, driven by this peer. */
  async grow (req: GrowRequest): Promise<{ nodes: string[], growId: string }> {
    if (!isProviderKind(req.provider)) throw new GrowError('unknown-provider', `unknown provider "${req.provider}" (known: ${providerKinds.join(', ')})`)
    const kind = req.provider
    let rec = decodeProvider(this.o.mesh.get(providerKey(kind)))
    if (!rec && kind === 'local') {
      rec = { v: 1, kind, options: { dir: join(this.o.home, 'machines') }, fingerprint: '', envelopes: {}, addedAt: this.now(), addedBy: this.self }
      await this.o.mesh.put(providerKey(kind), toValue(rec))
    }
    if (!rec) throw new GrowError('unknown-provider', `no ${kind} credentials in this cluster: run monk cluster provider add ${kind} first`)
    if (kind !== 'local' && rec.envelopes[this.self] === undefined) {
      throw new GrowError('unknown-provider', `this peer holds no ${kind} credentials; grow from ${Object.keys(rec.envelopes).map(id => this.peerName(id) || id).join(' or ')}, or add the provider here`)
    }
    if (this.grownNames().has(this.peerName(this.self))) throw new GrowError('bad-grow', 'a grown machine does not grow the cluster: run the grow on an operator peer')
    if (!nodeNamePattern.test(req.name) || req.name.length > 50) throw new GrowError('bad-grow', `--name "${req.name}" must be lower case letters, digits and dashes, starting with a letter (at most 50)`)
    const count = req.count ?? 1
    if (!Number.isInteger(count) || count < 1 || count > 100) throw new GrowError('bad-grow', `--num-instances must be from 1 to 100, got ${count}`)
    const tags = req.tags ?? []
    for (const t of tags) if (!tagPattern.test(t)) throw new GrowError('bad-grow', `tag "${t}" must be letters, digits and . _ : @ + = / - (no spaces or quotes)`)
    const region = req.region ?? rec.options.region ?? D.REGION[kind]!
    if (!/^[a-z0-9-]{2,40}$/.test(region)) throw new GrowError('bad-grow', `--region "${region}" is not a region name`)
    let zone: string | null = req.zone ?? null
    if (kind === 'gcp' && zone === null) zone = `${region}${D.ZONE_SUFFIX}`
    if ((kind === 'digitalocean' || kind === 'local') && zone !== null) throw new GrowError('bad-grow', `${kind} has no zones: drop --zone`)
    if (zone !== null && !/^[a-z0-9-]{2,40}$/.test(zone)) throw new GrowError('bad-grow', `--zone "${zone}" is not a zone name`)
    const disk = req.diskSize ?? D.DISK_GB
    if (!Number.isInteger(disk) || disk < 8 || disk > 16_384) throw new GrowError('bad-grow', `--disk-size must be from 8 to 16384 GB, got ${disk}`)
    const minutes = req.growTimeout ?? D.BOOT_TIMEOUT_MS / 60_000
    if (!(minutes > 0) || minutes > 24 * 60) throw new GrowError('bad-grow', `--grow-timeout must be a positive number of minutes, got ${minutes}`)
    const instanceType = req.instanceType ?? D.INSTANCE_TYPE[kind]!

    const taken = new Map<string, NodeRecord>()
    for (const { value } of this.o.mesh.scan('node/')) { const r = decodeNode(value); if (r) taken.set(r.name, r) }
    const liveNames = new Set(this.o.mesh.peers().filter(p => p.self || p.state === 'alive').map(p => decodePeer(p.record).name))
    const names: string[] = []
    for (let i = 1; names.length < count; i++) {
      const n = `${req.name}-${i}`
      const prev = taken.get(n)
      const free = (prev === undefined || prev.state === 'gone' || (prev.state === 'failed' && prev.cleanup !== 'pending')) && !liveNames.has(n)
      if (free) names.push(n)
    }
    const growId = randomBytes(6).toString('hex')
    const now = this.now()
    for (const name of names) {
      const r = newNode({ name, provider: kind, driver: this.self, growId, now, spec: { region, zone, instanceType, diskGb: disk, tags, image: req.image ?? null, keyPair: req.keyPair ?? null, bootTimeoutMs: Math.round(minutes * 60_000) } })
      await this.o.mesh.delete(nodeOpKey(name)).catch(() => {})
      await this.o.mesh.put(nodeKey(name), toValue(r))
    }
    this.o.log.info({ provider: kind, nodes: names, region, zone, instanceType }, `cloud: growing ${names.length} ${kind} machine(s): ${names.join(', ')}`)
    this.scheduleScan()
    return { nodes: names, growId }
  }

  /** `cluster.nodes`: the node records (all, or those named), with their peers' liveness. */
  nodes (names?: string[]): NodeRow[] {
    return nodeRows(this.o.mesh, names, id => this.peerName(id))
  }

  private async drain (rs: NodeRecord[], force: boolean): Promise<string[]> {
    for (const r of rs) await this.o.mesh.put(nodeOpKey(r.name), { op: 'drain', at: this.now(), by: this.self, force })
    this.scheduleScan()
    return rs.map(r => r.name)
  }

  /** `cluster.shrink`: terminates idle grown peers (no instances), newest first; `force` takes busy ones too. */
  async shrink (req: ShrinkRequest): Promise<{ nodes: string[], skipped: Array<{ name: string, reason: string }> }> {
    const { pick, skipped } = pickShrink(this.o.mesh, req)
    return { nodes: await this.drain(pick, req.force === true), skipped }
  }

  /** `cluster.peer-remove`: terminates the grown peers named (node name, peer name or peer id) or tagged. */
  async peerRemove (req: PeerRemoveRequest): Promise<{ nodes: string[] }> {
    return { nodes: await this.drain(pickPeerRemove(this.o.mesh, req), req.force === true) }
  }
}
