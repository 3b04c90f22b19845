// An EC2 emulator: the Query API subset monk uses (RunInstances, DescribeInstances,
// TerminateInstances, DescribeImages, DescribeSecurityGroups, CreateSecurityGroup,
// AuthorizeSecurityGroupIngress), XML answers and EC2's error codes, SigV4 signatures checked
// against the configured key. Driven by the real @aws-sdk/client-ec2 with `endpoint`.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { Emulator, type EmuMachine, type Reply, type Request } from './http.js'
import type { MachineHost } from './machines.js'

export interface Ec2Options {
  accessKeyId: string
  secretAccessKey: string
  regions?: string[]
  keyPairs?: string[]
  host?: MachineHost
}

const stateCode = { pending: 0, running: 16, stopping: 32, terminated: 48 } as const
const stateName = { pending: 'pending', running: 'running', stopping: 'shutting-down', terminated: 'terminated' } as const

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const el = (tag: string, inner: string): string => `<${tag}>${inner}</${tag}>`
const set = (tag: string, items: string[]): string => el(tag, items.map(i => el('item', i)).join(''))

class Ec2Error extends Error {
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

export class Ec2Emulator extends Emulator {
  private readonly o: Required<Omit<Ec2Options, 'host'>>
  private readonly groups = new Map<string, { id: string, name: string, region: string, rules: string[] }>()
  private readonly tokens = new Map<string, string[]>()
  private readonly metadata = new Map<string, Record<string, string>>()
  private seq = 0

  constructor (o: Ec2Options) {
    super(o.host)
    this.o = { regions: ['us-east-1', 'eu-west-1', 'us-west-2'], keyPairs: [], ...o }
  }

  /** The instance metadata options each machine was launched with (`HttpTokens`, `HttpPutResponseHopLimit`, `HttpEndpoint`). */
  metadataOptions (id: string): Record<string, string> | undefined { return this.metadata.get(id) }

  /** Security groups created, with their ingress rules (`tcp:44001:0.0.0.0/0`). */
  securityGroups (): Array<{ id: string, name: string, region: string, rules: string[] }> { return [...this.groups.values()] }

  protected callName (r: Request): string { return new URLSearchParams(r.body).get('Action') ?? `${r.method} ${r.path}` }

  protected internalError (): Reply { return this.error(new Ec2Error(500, 'InternalError', 'An internal error has occurred')) }

  private error (e: Ec2Error): Reply {
    return { status: e.status, type: 'text/xml', body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error></Errors><RequestID>${randomBytes(8).toString('hex')}</RequestID></Response>` }
  }

  protected async handle (r: Request): Promise<Reply> {
    try {
      const region = this.authenticate(r)
      const p = new URLSearchParams(r.body)
      const action = p.get('Action') ?? ''
      const body = await this.act(action, p, region)
      return { status: 200, type: 'text/xml', body: `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${randomBytes(8).toString('hex')}</requestId>${body}</${action}Response>` }
    } catch (err) {
      if (err instanceof Ec2Error) return this.error(err)
      throw err
    }
  }

  /** Checks the SigV4 signature like EC2 does; returns the region of the credential scope. */
  private authenticate (r: Request): string {
    const auth = String(r.headers.authorization ?? '')
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/ec2\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth)
    if (!m) throw new Ec2Error(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials')
    const [, keyId, date, region, signed, signature] = m as unknown as [string, string, string, string, string, string]
    if (keyId !== this.o.accessKeyId) throw new Ec2Error(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials')
    const amzDate = String(r.headers['x-amz-date'] ?? '')
    const names = signed.split(';')
    const canonicalHeaders = names.map(n => `${n}:${String(r.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('')
    const payloadHash = String(r.headers['x-amz-content-sha256'] ?? createHash('sha256').update(r.body).digest('hex'))
    const canonicalQuery = [...r.query.entries()].map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)]).sort(([a], [b]) => a! < b! ? -1 : 1).map(([k, v]) => `${k}=${v}`).join('&')
    const canonical = [r.method, r.path, canonicalQuery, canonicalHeaders, signed, payloadHash].join('\n')
    const scope = `${date}/${region}/ec2/aws4_request`
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n')
    const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest()
    const key = hmac(hmac(hmac(hmac(`AWS4${this.o.secretAccessKey}`, date), region), 'ec2'), 'aws4_request')
    const expected = createHmac('sha256', key).update(toSign).digest()
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      throw new Ec2Error(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials')
    }
    if (!this.o.regions.includes(region)) throw new Ec2Error(401, 'AuthFailure', `Credential should be scoped to a valid region, not '${region}'.`)
    return region
  }

  private async act (action: string, p: URLSearchParams, region: string): Promise<string> {
    switch (action) {
      case 'DescribeImages':
        return set('imagesSet', [`<imageId>ami-0emu${region.replace(/-/g, '')}</imageId><name>ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20260101</name><creationDate>2026-01-01T00:00:00.000Z</creationDate><imageState>available</imageState><architecture>x86_64</architecture>`])
      case 'DescribeSecurityGroups': {
        const names = list(p, 'GroupName').concat(filterValues(p, 'group-name'))
        const found = [...this.groups.values()].filter(g => g.region === region && (names.length === 0 || names.includes(g.name)))
        return set('securityGroupInfo', found.map(g => `<groupId>${g.id}</groupId><groupName>${esc(g.name)}</groupName><ipPermissions/>`))
      }
      case 'CreateSecurityGroup': {
        const name = p.get('GroupName') ?? ''
        if ([...this.groups.values()].some(g => g.region === region && g.name === name)) throw new Ec2Error(400, 'InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC 'vpc-emu'`)
        const id = `sg-${randomBytes(8).toString('hex')}`
        this.groups.set(id, { id, name, region, rules: [] })
        return `<return>true</return><groupId>${id}</groupId>`
      }
      case 'AuthorizeSecurityGroupIngress': {
        const g = this.groups.get(p.get('GroupId') ?? '')
        if (!g) throw new Ec2Error(400, 'InvalidGroup.NotFound', `The security group '${p.get('GroupId') ?? ''}' does not exist`)
        const rule = `${p.get('IpPermissions.1.IpProtocol') ?? ''}:${p.get('IpPermissions.1.FromPort') ?? ''}:${p.get('IpPermissions.1.IpRanges.1.CidrIp') ?? ''}`
        if (g.rules.includes(rule)) throw new Ec2Error(400, 'InvalidPermission.Duplicate', `the specified rule "peer: ${p.get('IpPermissions.1.IpRanges.1.CidrIp') ?? ''}, TCP, from port: ${p.get('IpPermissions.1.FromPort') ?? ''}, ALLOW" already exists`)
        g.rules.push(rule)
        return '<return>true</return>'
      }
      case 'RunInstances': return this.run(p, region)
      case 'DescribeInstances': {
        const ids = list(p, 'InstanceId')
        for (const id of ids) if (!this.machines.has(id)) throw new Ec2Error(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`)
        const filters = filtersOf(p)
        const found = [...this.machines.values()].filter(m => m.region === region && (ids.length === 0 || ids.includes(m.id)) && filters.every(f => matches(m, f)))
        return set('reservationSet', found.map(m => `<reservationId>r-${m.id.slice(2)}</reservationId>${set('instancesSet', [this.instanceXml(m)])}`))
      }
      case 'TerminateInstances': {
        const ids = list(p, 'InstanceId')
        const ms = ids.map(id => {
          const m = this.machines.get(id)
          if (!m || m.region !== region) throw new Ec2Error(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`)
          return m
        })
        const items = ms.map(m => {
          const prev = m.state
          if (m.state !== 'terminated') void this.terminate(m)
          return `<instanceId>${m.id}</instanceId><currentState><code>${stateCode[m.state]}</code><name>${stateName[m.state]}</name></currentState><previousState><code>${stateCode[prev]}</code><name>${stateName[prev]}</name></previousState>`
        })
        return set('instancesSet', items)
      }
      default:
        throw new Ec2Error(400, 'InvalidAction', `The action ${action} is not valid for this web service.`)
    }
  }

  private run (p: URLSearchParams, region: string): string {
    const token = p.get('ClientToken')
    if (token !== null && this.tokens.has(token)) {
      const ms = this.tokens.get(token)!.map(id => this.machines.get(id)!)
      return `<reservationId>r-idem</reservationId>${set('instancesSet', ms.map(m => this.instanceXml(m)))}`
    }
    const count = Number(p.get('MaxCount') ?? '1')
    const type = p.get('InstanceType') ?? 'm1.small'
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(type)) throw new Ec2Error(400, 'InvalidParameterValue', `Invalid value '${type}' for InstanceType.`)
    const image = p.get('ImageId') ?? ''
    if (!image.startsWith('ami-')) throw new Ec2Error(400, 'InvalidAMIID.Malformed', `Invalid id: "${image}" (expecting "ami-...")`)
    const key = p.get('KeyName')
    if (key !== null && !this.o.keyPairs.includes(key)) throw new Ec2Error(400, 'InvalidKeyPair.NotFound', `The key pair '${key}' does not exist`)
    const zone = p.get('Placement.AvailabilityZone')
    if (zone !== null && !(zone.startsWith(region) && /^[a-f]$/.test(zone.slice(region.length)))) throw new Ec2Error(400, 'InvalidParameterValue', `Invalid availability zone: [${zone}]`)
    for (const g of list(p, 'SecurityGroupId')) if (!this.groups.has(g)) throw new Ec2Error(400, 'InvalidGroup.NotFound', `The security group '${g}' does not exist in VPC 'vpc-emu'`)
    if (!this.withinQuota(count)) {
      throw new Ec2Error(400, 'InstanceLimitExceeded', `You have requested more instances (${this.live().length + count}) than your current instance limit of ${this.faults.quota ?? 0} allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.`)
    }
    const tags: Record<string, string> = {}
    for (let k = 1; p.has(`TagSpecification.${k}.ResourceType`); k++) {
      if (p.get(`TagSpecification.${k}.ResourceType`) !== 'instance') continue
      for (let t = 1; p.has(`TagSpecification.${k}.Tag.${t}.Key`); t++) tags[p.get(`TagSpecification.${k}.Tag.${t}.Key`)!] = p.get(`TagSpecification.${k}.Tag.${t}.Value`) ?? ''
    }
    const userData = Buffer.from(p.get('UserData') ?? '', 'base64').toString('utf8')
    const made: EmuMachine[] = []
    for (let i = 0; i < count; i++) {
      const m: EmuMachine = { id: `i-${(++this.seq).toString(16).padStart(4, '0')}${randomBytes(6).toString('hex')}`, name: tags['monk-node'] ?? '', state: 'pending', region, zone: zone ?? `${region}a`, type, tags, userData, createdAt: Date.now() }
      this.machines.set(m.id, m)
      made.push(m)
    }
    const meta: Record<string, string> = {}
    for (const k of ['HttpTokens', 'HttpPutResponseHopLimit', 'HttpEndpoint']) { const v = p.get(`MetadataOptions.${k}`); if (v !== null) meta[k] = v }
    if (meta.HttpTokens !== undefined && !['optional', 'required'].includes(meta.HttpTokens)) throw new Ec2Error(400, 'InvalidParameterValue', `Invalid value '${meta.HttpTokens}' for HttpTokens.`)
    for (const m of made) this.metadata.set(m.id, meta)
    if (token !== null) this.tokens.set(token, made.map(m => m.id))
    const xml = `<reservationId>r-${randomBytes(8).toString('hex')}</reservationId><ownerId>123456789012</ownerId>${set('instancesSet', made.map(m => this.instanceXml(m)))}`
    // the machines boot after the answer, like a real instance leaving `pending`
    for (const m of made) setImmediate(() => { if (m.state === 'pending') this.bootSafe(m) })
    return xml
  }

  private bootSafe (m: EmuMachine): void {
    try { this.boot(m) } catch { m.state = 'running' /* user data that is not ours: the machine runs, nothing joins */ }
  }

  private instanceXml (m: EmuMachine): string {
    const ip = m.state === 'running' ? '<privateIpAddress>127.0.0.1</privateIpAddress><ipAddress>127.0.0.1</ipAddress>' : ''
    return `<instanceId>${m.id}</instanceId><imageId>ami-emu</imageId><instanceState><code>${stateCode[m.state]}</code><name>${stateName[m.state]}</name></instanceState>${ip}<instanceType>${esc(m.type)}</instanceType><launchTime>${new Date(m.createdAt).toISOString()}</launchTime><placement><availabilityZone>${esc(m.zone ?? '')}</availabilityZone></placement>${set('tagSet', Object.entries(m.tags).map(([k, v]) => `<key>${esc(k)}</key><value>${esc(v)}</value>`))}`
  }
}

function list (p: URLSearchParams, name: string): string[] {
  const out: string[] = []
  for (let k = 1; p.has(`${name}.${k}`); k++) out.push(p.get(`${name}.${k}`)!)
  return out
}

function filtersOf (p: URLSearchParams): Array<{ name: string, values: string[] }> {
  const out: Array<{ name: string, values: string[] }> = []
  for (let k = 1; p.has(`Filter.${k}.Name`); k++) out.push({ name: p.get(`Filter.${k}.Name`)!, values: list(p, `Filter.${k}.Value`) })
  return out
}

function filterValues (p: URLSearchParams, name: string): string[] {
  return filtersOf(p).filter(f => f.name === name).flatMap(f => f.values)
}

function matches (m: EmuMachine, f: { name: string, values: string[] }): boolean {
  if (f.name.startsWith('tag:')) return f.values.includes(m.tags[f.name.slice(4)] ?? '\u0000')
  if (f.name === 'instance-state-name') return f.values.includes(stateName[m.state])
  return true
}
