// Defaults of the cloud drivers and the node actor, each with the reason for its value.
import { version } from '../version.js'

/** The libp2p port grown machines listen on and the firewall opens: monkd's own default. */
export const P2P_PORT = 44001

/** Home of monkd on a grown machine: the Linux service location of spec §5.1. */
export const MACHINE_HOME = '/var/lib/monkd'

/** Node.js installed on grown machines: the version monk is developed and tested on. */
export const NODE_VERSION = '20.20.2'

/**
 * What `npm install -g` installs on a grown machine. monk is not on the public registry yet, so
 * operators point the provider option `package` at a tarball URL (`npm pack` of this repository).
 */
export const MONK_PACKAGE = `monk@${version}`

/** Disk of a grown machine: enough for an OS, Node.js, monk and a few container images. */
export const DISK_GB = 20

/** Instance types when none is given: the smallest size of each cloud that runs monkd comfortably (1-2 GB). */
export const INSTANCE_TYPE: Readonly<Record<string, string>> = {
  aws: 't3.small',
  gcp: 'e2-small',
  digitalocean: 's-1vcpu-2gb',
  local: 'process',
}

/** Regions when none is given: a common default region of each cloud. */
export const REGION: Readonly<Record<string, string>> = {
  aws: 'us-east-1',
  gcp: 'us-central1',
  digitalocean: 'nyc3',
  local: 'local',
}

/** GCP zone when none is given: the first zone of the region (`us-central1` → `us-central1-a`). */
export const ZONE_SUFFIX = '-a'

/** Ubuntu LTS images: what the bootstrap script is written for (apt, systemd, cloud-init). */
export const UBUNTU = {
  /** Canonical's AWS account, owner of the official Ubuntu AMIs. */
  awsOwner: '099720109477',
  awsNamePattern: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*',
  gcpImage: 'projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts',
  digitalocean: 'ubuntu-22-04-x64',
} as const

/**
 * How long a machine may take from "created" to "joined". Spec §4.7 says the grow timeout is at
 * least 10 minutes: a cloud boot plus installing Node.js and monk takes 2-5 minutes.
 */
export const BOOT_TIMEOUT_MS = 10 * 60_000

/** How long the create step (API call, retries included) may take before the node fails. */
export const CREATE_TIMEOUT_MS = 5 * 60_000

/** How long a drain (terminate and confirm) may take before the node is reported stuck. */
export const DRAIN_TIMEOUT_MS = 5 * 60_000

/** Attempts of one step on transient errors (5xx, throttling) before the node fails. */
export const MAX_ATTEMPTS = 6

/** First retry delay of a step; doubles per attempt up to RETRY_MAX_MS (clouds throttle per second). */
export const RETRY_INITIAL_MS = 500

/** Cap of the retry delay: a throttled API recovers within tens of seconds. */
export const RETRY_MAX_MS = 30_000

/** How often a booting machine is described: often enough to see a lost machine, rarely enough for API rate limits. */
export const DESCRIBE_EVERY_MS = 5_000

/** How often the cloud manager re-examines every node record (timeouts, takeovers). */
export const TICK_MS = 500

/**
 * A peer that has not been heard of since this manager started is only treated as gone after this
 * long: right after a restart the failure detector has no heartbeats yet and every peer looks absent.
 */
export const TAKEOVER_GRACE_MS = 8_000

/** SDK request timeout: cloud APIs answer in well under a second; 30 s covers a slow control plane. */
export const REQUEST_TIMEOUT_MS = 30_000

/** Grace between SIGTERM and SIGKILL when a local machine is destroyed (monkd leaves in ~100 ms). */
export const LOCAL_KILL_GRACE_MS = 5_000

/** Entries kept in a node record's history: every state once, plus retries and takeovers. */
export const HISTORY_MAX = 24

/** How long a grown machine's invite stays valid: creating and booting a machine takes minutes; a day covers a slow cloud and a retried create, and a spent or expired invite admits nobody. */
export const GROW_INVITE_TTL_MS = 24 * 60 * 60 * 1000
