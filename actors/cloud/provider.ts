// The Provider contract (DESIGN §9): create, describe, list and destroy machines of one cloud
// account. aws.ts, gcp.ts, digitalocean.ts and local.ts implement it; the compliance suite in
// test/actors/cloud/ runs every one of them against its emulator.

/** The clouds monk can grow onto. Append only: the name is stored in node records. */
export const providerKinds = ['aws', 'gcp', 'digitalocean', 'local'] as const
export type ProviderKind = typeof providerKinds[number]

export function isProviderKind (v: unknown): v is ProviderKind {
  return typeof v === 'string' && (providerKinds as readonly string[]).includes(v)
}

/** Lifecycle of a machine as the provider reports it, normalised across clouds. */
export type MachineState = 'pending' | 'running' | 'stopping' | 'terminated'

/** Where a machine lives: region always, zone on clouds that have them (aws, gcp). */
export interface Location {
  readonly region: string
  readonly zone: string | null
}

/** One machine to create. */
export interface MachineSpec extends Location {
  /** The node name: machine name and peer name, unique in the cluster (`web-1`). */
  readonly name: string
  /** Cluster id: every machine is labelled with it, so list(cluster) finds them. */
  readonly cluster: string
  readonly instanceType: string
  readonly diskGb: number
  /** Image (AMI, GCE image, DO slug); null = the provider's Ubuntu LTS default. */
  readonly image: string | null
  /** SSH key pair name (aws, digitalocean); null = none. */
  readonly keyPair: string | null
  /** The TCP port monkd listens on (the firewall opens it). */
  readonly p2pPort: number
  /** First-boot configuration, see bootstrap.ts. */
  readonly boot: {
    /** `#cloud-config` user data (aws, digitalocean). */
    readonly cloudConfig: string
    /** The same as a shell script (gcp `startup-script`). */
    readonly script: string
    /** monkd's arguments (local runs them directly). */
    readonly args: readonly string[]
    /** The join token (secret; local writes it to the file `--join-file` names). */
    readonly join: string
  }
  /** Same token for retries of one create: providers that support it (EC2 ClientToken) make the call idempotent. */
  readonly idempotencyToken: string
}

/** A machine as the provider reports it. */
export interface Machine extends Location {
  /** The provider's id (`i-0abc`, a GCE instance name, a droplet id, a local name). */
  readonly id: string
  /** The node name it was created for (from its tags or labels); '' if it carries none. */
  readonly name: string
  readonly state: MachineState
  /** An address to reach it (public when it has one); null before it has one. */
  readonly address: string | null
}

/** A machine to describe or destroy: its id and where it lives. */
export type MachineRef = Pick<Machine, 'id' | 'region' | 'zone'>

/**
 * One cloud account. Every method may throw ProviderError (its `code` says quota, bad-region,
 * bad-credentials, not-found, invalid-spec, unavailable or failed; `retryable` whether a retry may
 * help). Methods may be called concurrently. No method logs or returns a credential.
 */
export interface Provider {
  readonly kind: ProviderKind
  /**
   * Creates one machine (opening the p2p port in the cluster's firewall or security group first,
   * once per cluster and region). Resolves when the provider accepted it, usually still `pending`.
   * Does not wait for the machine to boot.
   */
  create: (spec: MachineSpec) => Promise<Machine>
  /** The machine now, or null when the provider no longer knows it. */
  describe: (ref: MachineRef) => Promise<Machine | null>
  /** Every machine labelled with `cluster` in `where` (terminated ones may be included). */
  list: (cluster: string, where: Location) => Promise<Machine[]>
  /** Terminates the machine. Idempotent: a machine already gone is not an error. */
  destroy: (ref: MachineRef) => Promise<void>
  /** Releases clients and sockets. */
  close: () => Promise<void>
  /**
   * Removes the first-boot data that carries the join token from a machine that has joined (gcp:
   * the `startup-script` metadata). Absent on clouds whose user data cannot change after launch.
   */
  forgetBoot?: (ref: MachineRef) => Promise<void>
}

/** Non-secret settings of a provider, stored in clear beside the sealed credentials. */
export interface ProviderOptions {
  /** API endpoint override (emulators, private endpoints): `http://127.0.0.1:4566`. */
  readonly endpoint?: string
  /** GCP project (default: the service account's project_id). */
  readonly project?: string
  /** Package spec or tarball URL installed on grown machines (defaults.MONK_PACKAGE). */
  readonly package?: string
  /** Default region of grows that give none. */
  readonly region?: string
  /** local: the directory holding local machines' homes. */
  readonly dir?: string
  /** local: the runtime of local machines' monkd (auto, docker, process). */
  readonly runtime?: string
}

/** Credentials per provider, as read from each SDK's standard sources. */
export interface AwsCredentials { readonly accessKeyId: string, readonly secretAccessKey: string, readonly sessionToken?: string }
export interface GcpCredentials { readonly serviceAccount: string }
export interface DigitalOceanCredentials { readonly token: string }
export type Credentials = Readonly<Record<string, string>>

/** Node names are DNS labels (GCE instance names are the strictest): lower case, digits, dashes. */
export const nodeNamePattern = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/

/** Tags become monkd arguments and cloud labels: no spaces, quotes or shell characters. */
export const tagPattern = /^[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}$/

/** Label and tag keys every machine carries. */
export const LABEL_CLUSTER = 'monk-cluster'
export const LABEL_NODE = 'monk-node'

/** Tags a peer on `kind` in `where` gets automatically: the provider, the region, the zone. */
export function autoTags (kind: ProviderKind, where: Location): string[] {
  const out = [kind, where.region]
  if (where.zone !== null && where.zone !== where.region) out.push(where.zone)
  return [...new Set(out.filter(t => t !== ''))]
}
