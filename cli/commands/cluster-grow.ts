// The flags and help of `monk cluster grow|shrink|peer-remove|nodes|providers|provider add`:
// machines on clouds. The work is in cloud.ts (loaded when one of these runs), the credential
// chains in credentials.ts (loaded only by `provider add`); the daemon does the rest
// (actors/cloud-manager.ts and its node actors) and streams its progress.
import type { Command } from 'commander'
import { lazy } from './lazy.js'
import { collect } from './vars.js'

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
    .action(lazy(() => import('./cloud.js'), m => m.grow))

  cluster.command('shrink')
    .description('terminate grown peers that run nothing (newest first)')
    .option('-n, --name <name>', 'only machines of this base name (NAME-1, NAME-2, ...)')
    .option('-t, --tag <tag>', 'only machines with this tag')
    .option('-p, --provider <provider>', 'only machines on this provider')
    .option('-m, --num-instances <K>', 'at most K machines')
    .option('-f, --force', 'also terminate machines that run instances (they move to other matching peers)')
    .option('--no-wait', 'return once termination is requested')
    .action(lazy(() => import('./cloud.js'), m => m.shrink))

  cluster.command('peer-remove')
    .description('remove peers: revoke the admission of joined peers (then rotate the key), terminate grown ones, by node name, peer id or tag')
    .argument('[ids...]', 'node names, peer names or peer ids')
    .option('-i, --id <id>', 'node name or peer id (repeatable)', collect, [])
    .option('-t, --tag <tag>', 'every grown peer with this tag')
    .option('-f, --force', 'terminate even if they run instances')
    .option('--rotate', 'then rotate the cluster key (monk cluster rotate-key), so the removed peers cannot connect any more')
    .option('--no-wait', 'return once termination is requested')
    .action(lazy(() => import('./cloud.js'), m => m.peerRemove))

  cluster.command('nodes')
    .description('machines grown by this cluster and their state')
    .argument('[names...]', 'only these nodes')
    .option('-a, --all', 'also machines that are gone')
    .action(lazy(() => import('./cloud.js'), m => m.nodes))

  cluster.command('providers')
    .description('cloud providers whose credentials this cluster holds')
    .action(lazy(() => import('./cloud.js'), m => m.providers))

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
    .action(lazy(() => import('./cloud.js'), m => m.providerAdd))
}
