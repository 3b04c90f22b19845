// `monk cluster grow|shrink|peer-remove|nodes|providers|provider add`: machines on clouds. The
// daemon does the work (actors/cloud-manager.ts); these commands send one message, then follow
// the node records with a line of progress per machine until each one joined, is gone or failed.
// Credentials are read here from each SDK's standard sources and sent to the local monkd over its
// 0600 socket; they are never taken as a command-line value (that would show in `ps`) or printed.
import type { NodeRow, ProviderRow } from '../../actors/cloud-manager.js'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { table } from '../format/table.js'
import { CliError, exitCodes, printJson } from '../output.js'
import { session, type Session } from './session.js'
import { collect } from './vars.js'

/** Poll period while following nodes: cloud state changes take seconds; 4 polls a second is cheap. */
const FOLLOW_POLL_MS = 250
/** Slack over the grow timeout when following: the create step and the cleanup of a failure. */
const FOLLOW_SLACK_MS = 6 * 60_000
/** Endpoint overrides read from the environment (emulators, private API endpoints). */
const endpointEnv: Readonly<Record<string, string>> = { aws: 'MONK_AWS_ENDPOINT', gcp: 'MONK_GCP_ENDPOINT', digitalocean: 'MONK_DIGITALOCEAN_ENDPOINT' }

// Reply shapes of cluster.nodes / cluster.providers come from the daemon's side (type-only: erased at run time).
export type { NodeRow } from '../../actors/cloud-manager.js'

const settled = (r: NodeRow): boolean => r.state === 'joined' || r.state === 'gone' || (r.state === 'failed' && r.cleanup !== 'pending')

const splitTags = (list: readonly string[]): string[] => list.flatMap(t => t.split(/[\s,]+/)).map(t => t.trim()).filter(t => t !== '')

function positiveInt (v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new CliError('bad-flag', `${flag} wants a positive whole number, got "${v}"`, exitCodes.usage)
  return n
}

function describeNode (r: NodeRow): string {
  switch (r.state) {
    case 'creating': return `creating${r.warning ? ` (${r.warning})` : ''}`
    case 'booting': return `booting${r.cloudId ? ` (${r.cloudId})` : ''}${r.warning ? ` (${r.warning})` : ''}`
    case 'joined': return `joined as peer ${r.peerId ?? '?'}`
    case 'failed': return `failed: ${r.error?.message ?? r.error?.code ?? 'unknown error'}${r.cleanup === 'done' ? ' (no machine left)' : r.cleanup === 'stuck' ? ' (MACHINE MAY STILL RUN)' : ' (cleaning up)'}`
    default: return r.state
  }
}

/** Follows `names` until each is settled (or `done(row)` says so), printing one line per change. */
async function follow (s: Session, names: string[], timeoutMs: number, done: (r: NodeRow) => boolean): Promise<NodeRow[]> {
  const { progress } = await import('../format/spinner.js')
  const tty = Boolean(process.stderr.isTTY)
  const p = progress({ enabled: !s.json && !s.g.quiet && tty })
  const started = Date.now()
  const last = new Map<string, string>()
  const deadline = started + timeoutMs
  try {
    for (;;) {
      const rows = await s.request('peer', { type: 'cluster.nodes', names })
      for (const r of rows) {
        const line = describeNode(r)
        if (last.get(r.name) !== line) {
          last.set(r.name, line)
          if (!tty) s.note(`${r.name}: ${line} [${((Date.now() - started) / 1000).toFixed(1)} s]`)
        }
      }
      p.update(rows.map(r => `${r.name} ${r.state}`).join(', '))
      if (rows.length === names.length && rows.every(done)) return rows
      if (Date.now() > deadline) throw new CliError('timeout', `gave up waiting after ${Math.round(timeoutMs / 1000)} s: ${rows.filter(r => !done(r)).map(r => `${r.name} is ${r.state}`).join(', ')} (monkd keeps going; follow with monk cluster nodes)`)
      await new Promise(resolve => setTimeout(resolve, FOLLOW_POLL_MS))
    }
  } finally { p.done() }
}

export function nodesTable (rows: readonly NodeRow[], status: (s: string) => string): string {
  const age = (ms: number): string => { const s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h` }
  return table(['NAME', 'PROVIDER', 'REGION', 'TYPE', 'STATE', 'CLOUD ID', 'PEER', 'TAGS', 'SINCE'], rows.map(r => [
    r.name, r.provider, r.zone ?? r.region, r.instanceType, status(r.state === 'joined' ? (r.alive ? 'running' : 'dead') : r.state === 'failed' ? 'failed' : r.state) + (r.state === 'joined' && !r.alive ? ' (peer down)' : ''),
    r.cloudId ?? '', r.peerId ?? '', r.tags.join(','), age(r.stateAt),
  ]))
}

/** Reads the credentials of `kind` from the SDK's standard sources. Never logs or prints them. */
async function readCredentials (kind: string, o: { profile?: string, file?: string, tokenFile?: string }): Promise<Record<string, string>> {
  switch (kind) {
    case 'aws': {
      // the SDK's own default chain: env, shared config and credentials files (profile), SSO, process, IMDS
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true' // a notice about future SDK releases, not this one
      const { EC2Client } = await import('@aws-sdk/client-ec2')
      const client = new EC2Client({ region: process.env.AWS_REGION ?? 'us-east-1', ...(o.profile ? { profile: o.profile } : {}) })
      try {
        const c = await client.config.credentials()
        return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) }
      } catch (err) {
        throw new CliError('no-credentials', `no AWS credentials found${o.profile ? ` in profile ${o.profile}` : ''} (looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials and ~/.aws/config): ${(err as Error).name}`)
      } finally { client.destroy() }
    }
    case 'gcp': {
      const file = o.file ?? process.env.GOOGLE_APPLICATION_CREDENTIALS
      if (!file) throw new CliError('no-credentials', 'give the service account key file: monk cluster provider add gcp -f key.json (or set GOOGLE_APPLICATION_CREDENTIALS)', exitCodes.usage)
      try { return { serviceAccount: await readFile(file, 'utf8') } } catch (err) { throw new CliError('no-credentials', `cannot read the service account key ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`) }
    }
    case 'digitalocean': {
      if (o.tokenFile) {
        try { return { token: (await readFile(o.tokenFile, 'utf8')).trim() } } catch (err) { throw new CliError('no-credentials', `cannot read the token file ${o.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`) }
      }
      const env = process.env.DIGITALOCEAN_TOKEN ?? process.env.DIGITALOCEAN_ACCESS_TOKEN
      if (env) return { token: env.trim() }
      if (!process.stdin.isTTY) {
        const chunks: Buffer[] = []
        for await (const c of process.stdin) chunks.push(c as Buffer)
        const t = Buffer.concat(chunks).toString('utf8').trim()
        if (t) return { token: t }
      }
      throw new CliError('no-credentials', 'no DigitalOcean token: set DIGITALOCEAN_TOKEN (or DIGITALOCEAN_ACCESS_TOKEN), pass --token-file FILE, or pipe it on stdin', exitCodes.usage)
    }
    case 'local': return {}
    default: throw new CliError('bad-flag', `unknown provider "${kind}": aws, gcp, digitalocean or local`, exitCodes.usage)
  }
}

/** Registers the cloud subcommands under the `cluster` command group. */
export function registerClusterGrow (cluster: Command): void {
  cluster.command('grow')
    .description('provision machines on a cloud, install monkd on them and join them to this cluster')
    .requiredOption('-p, --provider <provider>', 'aws, gcp, digitalocean or local')
    .requiredOption('-n, --name <name>', 'base name: machines are NAME-1, NAME-2, ...')
    .option('-t, --tag <tags>', 'peer tags, comma or space separated (repeatable); provider, region and zone are added', collect, [])
    .option('-i, --instance-type <type>', 'instance type (t3.small, e2-small, s-1vcpu-2gb, ...)')
    .option('-r, --region <region>', 'region')
    .option('-z, --zone <zone>', 'zone (aws, gcp)')
    .option('-d, --disk-size <GB>', 'disk size in GB')
    .option('-m, --num-instances <K>', 'how many machines', '1')
    .option('--grow-timeout <minutes>', 'how long a machine may take to join')
    .option('--security-key-pair <name>', 'SSH key pair name (aws, digitalocean)')
    .option('--kp <name>', 'same as --security-key-pair')
    .option('--image <image>', 'machine image (default: Ubuntu 22.04 LTS)')
    .option('--no-wait', 'return once the machines are requested')
    .action(async (f: { provider: string, name: string, tag: string[], instanceType?: string, region?: string, zone?: string, diskSize?: string, numInstances: string, growTimeout?: string, securityKeyPair?: string, kp?: string, image?: string, wait: boolean }, cmd: Command) => {
      const s = session(cmd)
      const count = positiveInt(f.numInstances, '--num-instances') ?? 1
      const disk = positiveInt(f.diskSize, '--disk-size')
      const minutes = f.growTimeout === undefined ? undefined : Number(f.growTimeout)
      if (minutes !== undefined && !(minutes > 0)) throw new CliError('bad-flag', `--grow-timeout wants minutes, got "${f.growTimeout ?? ''}"`, exitCodes.usage)
      const keyPair = f.securityKeyPair ?? f.kp
      const tags = splitTags(f.tag)
      const reply = await s.request('peer', {
        type: 'cluster.grow', provider: f.provider, name: f.name, count,
        ...(tags.length ? { tags } : {}), ...(f.instanceType ? { instanceType: f.instanceType } : {}), ...(f.region ? { region: f.region } : {}),
        ...(f.zone ? { zone: f.zone } : {}), ...(disk !== undefined ? { diskSize: disk } : {}), ...(minutes !== undefined ? { growTimeout: minutes } : {}),
        ...(keyPair ? { keyPair } : {}), ...(f.image ? { image: f.image } : {}),
      })
      s.note(`Growing ${reply.nodes.length} ${f.provider} machine(s): ${reply.nodes.join(', ')}`)
      if (!f.wait) {
        if (s.json) printJson(reply)
        return
      }
      const rows = await follow(s, reply.nodes, (minutes ?? 10) * 60_000 + FOLLOW_SLACK_MS, settled)
      const failed = rows.filter(r => r.state === 'failed')
      if (s.json) printJson(rows)
      else {
        s.print(nodesTable(rows, s.status))
        for (const r of failed) s.note(`${r.name}: ${describeNode(r)}`)
      }
      if (failed.length > 0) {
        if (!s.json) s.note(`${rows.length - failed.length} of ${rows.length} machine(s) joined`)
        process.exitCode = exitCodes.failure
      } else s.note(`${rows.length} machine(s) joined`)
    })

  const follower = (verb: string) => async (s: Session, names: string[], wait: boolean): Promise<void> => {
    if (names.length === 0) { s.note(`nothing to ${verb}`); if (s.json) printJson([]); return }
    s.note(`Terminating ${names.join(', ')}`)
    if (!wait) { if (s.json) printJson({ nodes: names }); return }
    const rows = await follow(s, names, FOLLOW_SLACK_MS, r => r.state === 'gone' || r.state === 'failed')
    if (s.json) { printJson(rows); return }
    s.print(nodesTable(rows, s.status))
    const bad = rows.filter(r => r.state !== 'gone')
    for (const r of bad) s.note(`${r.name}: ${describeNode(r)}`)
    if (bad.length > 0) process.exitCode = exitCodes.failure
  }

  cluster.command('shrink')
    .description('terminate grown peers that run nothing (newest first)')
    .option('-n, --name <name>', 'only machines of this base name (NAME-1, NAME-2, ...)')
    .option('-t, --tag <tag>', 'only machines with this tag')
    .option('-p, --provider <provider>', 'only machines on this provider')
    .option('-m, --num-instances <K>', 'at most K machines')
    .option('-f, --force', 'also terminate machines that run instances (they move to other matching peers)')
    .option('--no-wait', 'return once termination is requested')
    .action(async (f: { name?: string, tag?: string, provider?: string, numInstances?: string, force?: boolean, wait: boolean }, cmd: Command) => {
      const s = session(cmd)
      const count = positiveInt(f.numInstances, '--num-instances')
      const reply = await s.request('peer', {
        type: 'cluster.shrink', ...(f.name ? { name: f.name } : {}), ...(f.tag ? { tag: f.tag } : {}), ...(f.provider ? { provider: f.provider } : {}),
        ...(count !== undefined ? { count } : {}), ...(f.force ? { force: true } : {}),
      })
      for (const k of reply.skipped) s.note(`kept ${k.name}: ${k.reason}`)
      await follower('shrink')(s, reply.nodes, f.wait)
    })

  cluster.command('peer-remove')
    .description('terminate grown peers by node name, peer id or tag')
    .argument('[ids...]', 'node names or peer ids')
    .option('-i, --id <id>', 'node name or peer id (repeatable)', collect, [])
    .option('-t, --tag <tag>', 'every grown peer with this tag')
    .option('-f, --force', 'terminate even if they run instances')
    .option('--no-wait', 'return once termination is requested')
    .action(async (args: string[], f: { id: string[], tag?: string, force?: boolean, wait: boolean }, cmd: Command) => {
      const s = session(cmd)
      const ids = [...f.id, ...args]
      if (ids.length === 0 && f.tag === undefined) throw new CliError('bad-flag', 'give --id NAME (or names as arguments) or --tag TAG', exitCodes.usage)
      const reply = await s.request('peer', { type: 'cluster.peer-remove', ...(ids.length ? { ids } : {}), ...(f.tag ? { tag: f.tag } : {}), ...(f.force ? { force: true } : {}) })
      await follower('remove')(s, reply.nodes, f.wait)
    })

  cluster.command('nodes')
    .description('machines grown by this cluster and their state')
    .argument('[names...]', 'only these nodes')
    .option('-a, --all', 'also machines that are gone')
    .action(async (names: string[], f: { all?: boolean }, cmd: Command) => {
      const s = session(cmd)
      const rows = (await s.request('peer', { type: 'cluster.nodes', ...(names.length ? { names } : {}) }))
        .filter(r => f.all === true || names.length > 0 || r.state !== 'gone')
      if (s.json) { printJson(rows); return }
      s.print(nodesTable(rows, s.status))
      for (const r of rows.filter(r => r.state === 'failed')) s.note(`${r.name}: ${describeNode(r)}`)
    })

  cluster.command('providers')
    .description('cloud providers whose credentials this cluster holds')
    .action(async (_f: unknown, cmd: Command) => {
      const s = session(cmd)
      const rows = await s.request('peer', { type: 'cluster.providers' })
      if (s.json) { printJson(rows); return }
      s.print(table(['PROVIDER', 'CREDENTIALS', 'HELD BY', 'NODES', 'OPTIONS'], rows.map(r => [
        r.kind, r.kind === 'local' ? '-' : `sha256:${r.fingerprint}`, r.kind === 'local' ? 'any peer' : r.holders.join(','), String(r.nodes),
        Object.entries(r.options).map(([k, v]) => `${k}=${v}`).join(' '),
      ])))
    })

  const provider = cluster.command('provider').alias('p').description('manage cloud providers')
  provider.command('add')
    .description('add a cloud provider: credentials from the SDK\'s standard sources, sealed in the cluster')
    .argument('[provider]', 'aws, gcp, digitalocean or local')
    .option('-p, --provider <provider>', 'same as the argument')
    .option('--profile <name>', 'aws: the profile in ~/.aws/credentials or ~/.aws/config (default: the default chain)')
    .option('-f, --file <key.json>', 'gcp: service account key file (default: $GOOGLE_APPLICATION_CREDENTIALS)')
    .option('--token-file <file>', 'digitalocean: a file holding the API token (default: $DIGITALOCEAN_TOKEN, else stdin)')
    .option('--project <id>', 'gcp: project (default: the key\'s project_id)')
    .option('--endpoint <url>', 'API endpoint override (default: $MONK_<PROVIDER>_ENDPOINT, else the public API)')
    .option('-r, --region <region>', 'default region of grows on this provider')
    .option('--package <spec>', 'npm spec or tarball URL of monk installed on grown machines')
    .option('--dir <dir>', 'local: where local machines live')
    .option('--runtime <kind>', 'local: runtime of local machines (auto, docker, process)')
    .action(async (arg: string | undefined, f: { provider?: string, profile?: string, file?: string, tokenFile?: string, project?: string, endpoint?: string, region?: string, package?: string, dir?: string, runtime?: string }, cmd: Command) => {
      const s = session(cmd)
      const kind = arg ?? f.provider
      if (!kind) throw new CliError('bad-flag', 'which provider? monk cluster provider add aws|gcp|digitalocean|local', exitCodes.usage)
      const credentials = await readCredentials(kind, f)
      const endpoint = f.endpoint ?? process.env[endpointEnv[kind] ?? ''] ?? undefined
      const options: Record<string, string> = {}
      for (const [k, v] of Object.entries({ endpoint, project: f.project, region: f.region, package: f.package, dir: f.dir === undefined ? undefined : resolve(f.dir), runtime: f.runtime })) if (v !== undefined && v !== '') options[k] = v
      const row = await s.request('peer', { type: 'cluster.provider-add', kind, credentials, options })
      if (s.json) { printJson(row); return }
      s.note(`${kind} provider added${row.kind === 'local' ? '' : ` (credentials sha256:${row.fingerprint}, sealed for ${row.holders.length} peer(s): ${row.holders.join(', ')})`}`)
    })
}
