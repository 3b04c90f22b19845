// Keeps the secrets data key (secret-keys.ts) in step with admission, and the grants in step with
// placement. Runs on every peer but acts only on the first live operator (by peer id) that runs a
// keeper (`secretKeeper` in its peer record: an older or in-process peer without one must not
// stall it) and holds the current key, so two operators do not race on the same records. On each
// pass it
// - makes epoch 1 when the cluster has no data key;
// - rotates when the current epoch has an envelope for a peer that is not an admitted operator
//   (removed, or a worker: clusters made before grants sealed the key to workers too): a new
//   random key of epoch+1 sealed to the admitted operators only;
// - adds an envelope for each admitted operator that publishes a seal key and lacks one;
// - re-seals every secret not sealed under the current epoch (older epochs, and values sealed
//   under the cluster key by an older monk), then deletes the epochs no secret uses any more;
// - grants: for every instance that may read secrets (`permitted-secrets`), each worker that holds
//   it (placement's owner, a peer still claiming it) or stands by for it (the peer placement would
//   choose if the owner died) gets `secretgrant/<peer>/<scope>/<name>` = the value sealed to its
//   seal key; a grant is made again when the secret or the worker's seal key changed, and deleted
//   when no such instance needs it there any more (moved, purged, the secret removed, the peer
//   removed). The standby grant lets a failover start without a live operator.
// Workers never re-seal and never grant: they only open what is granted to them.
import { randomBytes } from 'node:crypto'
import { parseToken } from '../mesh/cluster.js'
import type { Mesh } from '../mesh/mesh.js'
import type { Logger } from './kit/index.js'
import { decodeGrant, decodeSecretKey, encodeGrant, encodeSecretKey, makeGrant, sealDataKey, sealedPrint, secretGrantKey, secretGrantPrefix, secretKeyKey, secretKeyPrefix, type SecretKeyRecord, type SecretKeys } from './secret-keys.js'
import { decodeSealed, encodeSealed, SecretBox, secretScope } from './secrets.js'
import { isObj } from './values.js'

/**
 * An instance that may read secrets, and the peers that hold it or stand by for it (placement's
 * owner, its claimants, its standby). `path`: its runnable's path, the first scope looked in.
 */
export interface SecretHolders { instance: string, path: string, secrets: readonly string[], peers: readonly string[] }

export class SecretKeeper {
  private readonly unsubscribe: Array<() => void> = []
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private again = false
  private stopped = false

  /** `holders`: where instances that may read secrets are placed (none: no grants are made, and every grant is removed). */
  constructor (private readonly mesh: Mesh, private readonly keys: SecretKeys, private readonly log: Logger, private readonly now: () => number = Date.now, private readonly holders: () => SecretHolders[] = () => []) {}

  async start (): Promise<void> {
    await this.mesh.announce({ sealKey: this.keys.sealKey.publicRaw, secretKeeper: true })
    for (const prefix of ['admit/', 'peer/', secretKeyPrefix, 'secret/', secretGrantPrefix, 'want/', 'claim/', 'tpl/']) this.unsubscribe.push(this.mesh.onChange(prefix, () => this.schedule()))
    this.unsubscribe.push(this.mesh.onPeerUp(() => this.schedule()), this.mesh.onPeerDown(() => this.schedule()))
    void this.mesh.whenSynced().then(() => this.schedule())
    this.schedule()
  }

  stop (): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    for (const u of this.unsubscribe) u()
  }

  /** Runs a pass soon (what `holders` reads changed outside the replica prefixes it watches). */
  refresh (): void { this.schedule() }

  /** Resolves when no pass is running or scheduled (tests). */
  async idle (): Promise<void> {
    while (this.running || this.timer) await (this.running ?? new Promise(resolve => setTimeout(resolve, 20)))
  }

  private schedule (): void {
    if (this.stopped) return
    if (this.running) { this.again = true; return }
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.running = this.pass().catch(err => { this.log.warn({ err: String((err as Error).message) }, 'secrets: keeping the data key failed') }).finally(() => {
        this.running = null
        if (this.again) { this.again = false; this.schedule() }
      })
    }, 20)
  }

  /** Admitted peers of `role` that publish a seal key (this operator itself included for 'operator'). */
  private admitted (role: 'operator' | 'worker' = 'operator'): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>()
    for (const { key, value } of this.mesh.scan('peer/')) {
      const id = key.slice('peer/'.length)
      if (!isObj(value) || !(value.sealKey instanceof Uint8Array) || value.sealKey.length !== 32) continue
      if (this.mesh.roleOf(id) !== role) continue
      out.set(id, value.sealKey)
    }
    if (role === 'operator') out.set(this.mesh.peerId, this.keys.sealKey.publicRaw)
    return out
  }

  private async pass (): Promise<void> {
    const m = this.mesh
    const self = m.peerId
    if (this.stopped || !m.synced || m.roleOf(self) !== 'operator') return
    let cur = this.keys.current()
    const alive = new Set(m.alive())
    const keeps = (id: string): boolean => { const r = m.get(`peer/${id}`); return id === self || (isObj(r) && r.secretKeeper === true) }
    const keepers = [...alive].filter(id => m.roleOf(id) === 'operator' && keeps(id) && (cur === undefined || cur.envelopes[id] !== undefined)).sort()
    if (keepers[0] !== self) return
    const admitted = this.admitted()
    if (!cur) {
      cur = await this.makeEpoch(1, admitted)
      this.log.info({ epoch: 1, peers: admitted.size }, `secrets: made the data key (epoch 1) for ${admitted.size} operator(s)`)
    }
    const stale = Object.keys(cur.envelopes).filter(id => m.roleOf(id) !== 'operator')
    if (stale.length > 0) {
      cur = await this.makeEpoch(cur.epoch + 1, admitted)
      this.log.info({ epoch: cur.epoch, removed: stale }, `secrets: rotated the data key to epoch ${cur.epoch} (${stale.length} peer(s) held it that are not admitted operators)`)
    } else {
      const missing = [...admitted].filter(([id]) => cur!.envelopes[id] === undefined)
      if (missing.length > 0) {
        const key = this.keys.dataKey(cur.epoch)
        const envelopes = { ...cur.envelopes }
        for (const [id, pub] of missing) envelopes[id] = sealDataKey(cur.epoch, id, pub, key)
        cur = { ...cur, envelopes }
        await m.put(secretKeyKey(cur.epoch), encodeSecretKey(cur))
        this.log.info({ epoch: cur.epoch, peers: missing.map(([id]) => id) }, `secrets: sealed the data key to ${missing.length} newly admitted operator(s)`)
      }
    }
    await this.reseal(cur)
    await this.grant()
  }

  /** Makes the grants the holders need, and deletes every other grant. */
  private async grant (): Promise<void> {
    const m = this.mesh
    const workers = this.admitted('worker')
    const wanted = new Set<string>()
    let made = 0
    for (const h of this.holders()) {
      for (const peer of new Set(h.peers)) {
        const pub = workers.get(peer)
        if (!pub) continue // an operator opens with the data key; a peer not admitted gets nothing
        for (const name of new Set(h.secrets)) {
          const scope = secretScope(k => m.get(k), h.path, h.instance, name)
          if (scope === undefined) continue
          const sealed = decodeSealed(m.get(`secret/${scope}/${name}`))
          if (!sealed) continue
          const key = secretGrantKey(peer, scope, name)
          if (wanted.has(key)) continue
          wanted.add(key)
          const had = decodeGrant(m.get(key))
          if (had && had.src === sealedPrint(sealed) && had.to === Buffer.from(pub).toString('hex')) continue
          let plain: string
          try {
            plain = this.keys.open(scope, name, sealed)
          } catch (err) {
            this.log.warn({ secret: name, scope, peer, err: String((err as Error).message) }, `secrets: cannot grant secret ${name} (${scope}) to peer ${peer}: it does not open here`)
            continue
          }
          await m.put(key, encodeGrant(makeGrant(peer, pub, scope, name, sealed, plain, m.peerId, this.now())))
          made++
        }
      }
    }
    let removed = 0
    for (const { key } of m.scan(secretGrantPrefix)) {
      if (wanted.has(key)) continue
      await m.delete(key)
      removed++
    }
    if (made > 0 || removed > 0) this.log.info({ made, removed }, `secrets: granted ${made} secret(s) to workers, removed ${removed} grant(s) no longer needed`)
  }

  private async makeEpoch (epoch: number, admitted: Map<string, Uint8Array>): Promise<SecretKeyRecord> {
    const key = new Uint8Array(randomBytes(32))
    const envelopes: SecretKeyRecord['envelopes'] = {}
    for (const [id, pub] of admitted) envelopes[id] = sealDataKey(epoch, id, pub, key)
    const rec: SecretKeyRecord = { v: 1, epoch, envelopes, by: this.mesh.peerId, at: this.now() }
    await this.mesh.put(secretKeyKey(epoch), encodeSecretKey(rec))
    return rec
  }

  /** Re-seals every secret not under `cur`, then deletes the epochs no secret uses. */
  private async reseal (cur: SecretKeyRecord): Promise<void> {
    const m = this.mesh
    let legacy: SecretBox | undefined
    const inUse = new Set<number>([cur.epoch])
    let moved = 0
    for (const { key, value } of m.scan('secret/')) {
      const s = decodeSealed(value)
      if (!s || s.epoch === cur.epoch) continue
      const rest = key.slice('secret/'.length)
      const i = rest.lastIndexOf('/')
      const scope = rest.slice(0, i)
      const name = rest.slice(i + 1)
      try {
        let plain: string
        if (s.epoch === undefined) {
          legacy ??= new SecretBox(parseToken(m.token()).key)
          plain = legacy.open(scope, name, s)
        } else {
          plain = this.keys.open(scope, name, s)
        }
        await m.put(key, encodeSealed(this.keys.seal(scope, name, plain)))
        moved++
      } catch (err) {
        if (s.epoch !== undefined) inUse.add(s.epoch)
        this.log.warn({ secret: name, scope, err: String((err as Error).message) }, `secrets: cannot re-seal secret ${name} (${scope}) under epoch ${cur.epoch}; it is left as it is`)
      }
    }
    if (moved > 0) this.log.info({ epoch: cur.epoch, secrets: moved }, `secrets: re-sealed ${moved} secret(s) under epoch ${cur.epoch}`)
    for (const { key, value } of m.scan(secretKeyPrefix)) {
      const r = decodeSecretKey(value)
      if (r && !inUse.has(r.epoch) && r.epoch < cur.epoch) await m.delete(key)
    }
  }
}
