// AWS EC2 (@aws-sdk/client-ec2): RunInstances with cloud-init user data, tags and a security group
// opening the p2p port; DescribeInstances by the cluster tag; TerminateInstances. One client per
// region. The SDK's own retries are off (maxAttempts 1): the node actor retries with its backoff.
import type { EC2Client, Instance, _InstanceType } from '@aws-sdk/client-ec2'
import { REQUEST_TIMEOUT_MS, UBUNTU } from './defaults.js'
import { clip, ProviderError, redact, type ProviderErrorCode } from './errors.js'
import { LABEL_CLUSTER, LABEL_NODE, type AwsCredentials, type Location, type Machine, type MachineRef, type MachineSpec, type MachineState, type Provider, type ProviderOptions } from './provider.js'

type Sdk = typeof import('@aws-sdk/client-ec2')

export async function openAws (creds: AwsCredentials, options: ProviderOptions): Promise<Provider> {
  // The pinned SDK warns that *future* releases need Node 22 on every process start; it says
  // nothing about this version, and monkd's stderr is the operator's terminal or journal.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const sdk: Sdk = await import('@aws-sdk/client-ec2')
  const secrets = [creds.accessKeyId, creds.secretAccessKey, ...(creds.sessionToken ? [creds.sessionToken] : [])]
  const clients = new Map<string, EC2Client>()
  const images = new Map<string, Promise<string>>()
  const groups = new Map<string, Promise<string>>()

  const client = (region: string): EC2Client => {
    let c = clients.get(region)
    if (!c) {
      c = new sdk.EC2Client({
        region,
        credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {}) },
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        maxAttempts: 1,
        requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: 10_000 },
      })
      clients.set(region, c)
    }
    return c
  }

  const fail = (operation: string, what: string, err: unknown): ProviderError => mapError(operation, what, err, secrets)

  const call = async <T>(operation: string, what: string, fn: () => Promise<T>): Promise<T> => {
    try { return await fn() } catch (err) { throw fail(operation, what, err) }
  }

  const defaultImage = (region: string): Promise<string> => {
    let p = images.get(region)
    if (!p) {
      p = call('DescribeImages', `the Ubuntu image in ${region}`, () => client(region).send(new sdk.DescribeImagesCommand({
        Owners: [UBUNTU.awsOwner], Filters: [{ Name: 'name', Values: [UBUNTU.awsNamePattern] }, { Name: 'state', Values: ['available'] }],
      }))).then(out => {
        const newest = [...(out.Images ?? [])].sort((a, b) => String(b.CreationDate).localeCompare(String(a.CreationDate)))[0]
        if (!newest?.ImageId) throw new ProviderError({ code: 'invalid-spec', provider: 'aws', operation: 'DescribeImages', providerCode: 'NoImage', message: `aws: no Ubuntu 22.04 image found in ${region}; give one with --image` })
        return newest.ImageId
      })
      p.catch(() => images.delete(region))
      images.set(region, p)
    }
    return p
  }

  /** The cluster's security group in `region`, opening the p2p port; created once. */
  const securityGroup = (cluster: string, region: string, port: number): Promise<string> => {
    const key = `${region}/${cluster}/${port}`
    let p = groups.get(key)
    if (!p) {
      const name = `monk-${cluster}`
      p = (async () => {
        const c = client(region)
        const found = await call('DescribeSecurityGroups', `security group ${name} in ${region}`, () => c.send(new sdk.DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }] })))
        let id = found.SecurityGroups?.[0]?.GroupId
        if (!id) {
          try {
            id = (await c.send(new sdk.CreateSecurityGroupCommand({ GroupName: name, Description: `monk cluster ${cluster}: p2p port ${port}` }))).GroupId
          } catch (err) {
            if ((err as { name?: string }).name !== 'InvalidGroup.Duplicate') throw fail('CreateSecurityGroup', `security group ${name} in ${region}`, err)
            id = (await c.send(new sdk.DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }] }))).SecurityGroups?.[0]?.GroupId
          }
          if (!id) throw new ProviderError({ code: 'failed', provider: 'aws', operation: 'CreateSecurityGroup', providerCode: 'NoGroupId', message: `aws: security group ${name} in ${region} has no id` })
          try {
            await c.send(new sdk.AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'monk p2p (libp2p, PSK + Noise)' }] }] }))
          } catch (err) {
            if ((err as { name?: string }).name !== 'InvalidPermission.Duplicate') throw fail('AuthorizeSecurityGroupIngress', `security group ${name} in ${region}`, err)
          }
        }
        return id
      })()
      p.catch(() => groups.delete(key))
      groups.set(key, p)
    }
    return p
  }

  const toMachine = (i: Instance, region: string): Machine => ({
    id: i.InstanceId ?? '',
    name: i.Tags?.find(t => t.Key === LABEL_NODE)?.Value ?? '',
    state: stateOf(i.State?.Name),
    address: i.PublicIpAddress ?? i.PrivateIpAddress ?? null,
    region,
    zone: i.Placement?.AvailabilityZone ?? null,
  })

  const describeAll = async (region: string, input: { Filters?: Array<{ Name: string, Values: string[] }>, InstanceIds?: string[] }, what: string): Promise<Machine[]> => {
    const out: Machine[] = []
    let token: string | undefined
    do {
      const page = await call('DescribeInstances', what, () => client(region).send(new sdk.DescribeInstancesCommand({ ...input, ...(token ? { NextToken: token } : {}) })))
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(toMachine(i, region))
      token = page.NextToken
    } while (token)
    return out
  }

  return {
    kind: 'aws',
    async create (spec: MachineSpec): Promise<Machine> {
      const what = `${spec.name} in ${spec.zone ?? spec.region}`
      const image = spec.image ?? await defaultImage(spec.region)
      const group = await securityGroup(spec.cluster, spec.region, spec.p2pPort)
      const out = await call('RunInstances', what, () => client(spec.region).send(new sdk.RunInstancesCommand({
        ImageId: image,
        InstanceType: spec.instanceType as _InstanceType,
        MinCount: 1,
        MaxCount: 1,
        UserData: Buffer.from(spec.boot.cloudConfig).toString('base64'),
        // IMDSv2 only (session tokens), and a hop limit of 1: a container behind a bridge (one hop
        // more) cannot reach the metadata service, so neither the user data (the join token) nor
        // the instance role's credentials
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
        SecurityGroupIds: [group],
        ...(spec.keyPair ? { KeyName: spec.keyPair } : {}),
        ...(spec.zone ? { Placement: { AvailabilityZone: spec.zone } } : {}),
        BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: spec.diskGb, VolumeType: 'gp3', DeleteOnTermination: true } }],
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: spec.name }, { Key: LABEL_CLUSTER, Value: spec.cluster }, { Key: LABEL_NODE, Value: spec.name }] }],
        ClientToken: spec.idempotencyToken.slice(0, 64),
      })))
      const inst = out.Instances?.[0]
      if (!inst?.InstanceId) throw new ProviderError({ code: 'failed', provider: 'aws', operation: 'RunInstances', providerCode: 'NoInstance', message: `aws RunInstances for ${what} returned no instance` })
      return toMachine(inst, spec.region)
    },
    async describe (ref: MachineRef): Promise<Machine | null> {
      try {
        return (await describeAll(ref.region, { InstanceIds: [ref.id] }, `instance ${ref.id}`))[0] ?? null
      } catch (err) {
        if (err instanceof ProviderError && err.code === 'not-found') return null
        throw err
      }
    },
    async list (cluster: string, where: Location): Promise<Machine[]> {
      return await describeAll(where.region, { Filters: [{ Name: `tag:${LABEL_CLUSTER}`, Values: [cluster] }] }, `instances of cluster ${cluster} in ${where.region}`)
    },
    async destroy (ref: MachineRef): Promise<void> {
      try {
        await call('TerminateInstances', `instance ${ref.id}`, () => client(ref.region).send(new sdk.TerminateInstancesCommand({ InstanceIds: [ref.id] })))
      } catch (err) {
        if (err instanceof ProviderError && err.code === 'not-found') return
        throw err
      }
    },
    async close (): Promise<void> {
      for (const c of clients.values()) c.destroy()
      clients.clear()
    },
  }
}

function stateOf (name: string | undefined): MachineState {
  switch (name) {
    case 'running': return 'running'
    case 'shutting-down': case 'stopping': case 'stopped': return 'stopping'
    case 'terminated': return 'terminated'
    default: return 'pending'
  }
}

/** An SDK error as a ProviderError: EC2's code and message, no credentials, no SDK internals. */
function mapError (operation: string, what: string, err: unknown, secrets: string[]): ProviderError {
  const e = err as { name?: string, message?: string, code?: string, $fault?: string, $metadata?: { httpStatusCode?: number } }
  const providerCode = e.name ?? e.code ?? 'Error'
  const text = clip(redact(String(e.message ?? err), secrets))
  const status = e.$metadata?.httpStatusCode ?? 0
  let code: ProviderErrorCode = 'failed'
  if (/LimitExceeded$/.test(providerCode) && providerCode !== 'RequestLimitExceeded') code = 'quota'
  else if (providerCode === 'AuthFailure' && /region/i.test(text)) code = 'bad-region'
  else if (['AuthFailure', 'UnauthorizedOperation', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken', 'CredentialsProviderError'].includes(providerCode)) code = 'bad-credentials'
  else if (/availability zone|region/i.test(text) && providerCode.startsWith('Invalid')) code = 'bad-region'
  else if (providerCode.startsWith('InvalidInstanceID.NotFound')) code = 'not-found'
  else if (providerCode.startsWith('Invalid') || providerCode === 'Unsupported' || providerCode === 'MissingParameter') code = 'invalid-spec'
  else if (['InternalError', 'InternalFailure', 'Unavailable', 'ServiceUnavailable', 'RequestLimitExceeded', 'Throttling', 'InsufficientInstanceCapacity', 'TimeoutError', 'RequestTimeout'].includes(providerCode) || e.$fault === 'server' || status >= 500) code = 'unavailable'
  else if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(String(e.code)) || /ECONNREFUSED|ECONNRESET|socket hang up|ETIMEDOUT/.test(text)) code = 'unavailable'
  return new ProviderError({ code, provider: 'aws', operation, providerCode, message: `aws ${operation} for ${what} failed: ${providerCode}: ${text}` })
}
