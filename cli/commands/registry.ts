// The command table of `monk` for everything that talks to monkd: each command's name, arguments,
// flags and help. A command's work lives in its own module (load.ts, run.ts, ps.ts...), imported
// only when that command runs, so `monk` starts with commander and this file alone (each module
// the ESM loader reads at start-up costs about a millisecond; see benchmarks/cli.ts).
import { Option, type Command } from 'commander'
import { registerClusterGrow } from './cluster-grow.js'
import { DAEMON_START_TIMEOUT_MS, LOG_LAST, STOP_TIMEOUT_S, WAIT_TIMEOUT_S } from './defaults.js'
import { lazy } from './lazy.js'
import { collect } from './vars.js'

/** run, update and up: where to run, variables, and how long to wait. */
function runOptions (cmd: Command, withForce = true): Command {
  cmd.option('-t, --tag <tag>', 'run on peers with this tag (repeatable, or a comma list)', collect, [])
    .option('-p, --peer <name>', 'run on this peer (name or id)')
    .option('-s, --set <name=value>', 'set a variable (repeatable)', collect, [])
    .option('--variables-file <file>', 'YAML file of variables (name: value for the target; ns: {runnable: {name: value}} for members)')
  if (withForce) cmd.option('-f, --force-move', 'move instances even if they already run on another eligible peer')
  return cmd
    .option('--no-wait', 'return once monkd accepted the request')
    .addOption(new Option('--timeout <seconds>', 'how long to wait for instances to run').default(String(WAIT_TIMEOUT_S)))
}

/** stop, restart and purge: whether and how long to wait for the change. */
function waitOptions (cmd: Command, defaultS: number): Command {
  return cmd.option('--no-wait', 'return once monkd accepted the request')
    .addOption(new Option('--timeout <seconds>', 'how long to wait').default(String(defaultS)))
}

/** secrets: the scope. */
function scopeOptions (cmd: Command): Command {
  return cmd.option('-g, --global', 'a global secret').option('-r, --runnable <path>', 'a secret of one workload (ns/name)')
}

/** Registers every daemon command on `program`. */
export function registerCommands (program: Command): void {
  // load.ts
  program.command('load')
    .description('load MonkScript files, directories or MANIFESTs into monkd')
    .argument('<paths...>', 'YAML files, MANIFESTs or directories')
    .option('-s, --strict', 'treat warnings as errors')
    .action(lazy(() => import('./load.js'), m => m.load))

  // templates.ts
  program.command('list')
    .alias('ls')
    .description('list templates, loaded and from the hub (type, path, repository, version, tags)')
    .argument('[filter]', 'only paths containing this text')
    .option('-r, --runnables', 'only runnables')
    .option('-g, --groups', 'only groups')
    .option('-l, --local', 'only templates loaded from local files')
    .option('--repo <name>', 'only templates of this repository (local or a hub source)')
    .option('--at-version <version>', 'only templates of this version')
    .option('--tag <tag>', 'only templates with this tag')
    .option('--changed', 'only running hub templates whose hub version changed (monk update takes it)')
    .action(lazy(() => import('./templates.js'), m => m.list))

  program.command('info')
    .description('show a template\'s metadata and where it came from (repository, commit, file:line)')
    .argument('<path>', 'template path, e.g. ns/app, or repo/ns/app for one hub source')
    .action(lazy(() => import('./templates.js'), m => m.info))

  program.command('search')
    .description('find templates (loaded and hub) whose name, description or tags hold every word')
    .argument('<words...>', 'words to look for (case-insensitive)')
    .action(lazy(() => import('./templates.js'), m => m.search))

  // hub.ts
  const hub = program.command('hub').description('hub sources: git repositories of kits every peer knows')
  hub.command('add')
    .description('add a git repository (any URL git fetches, or a local path) as a hub source, and sync it')
    .argument('<name>', 'source name (the repository id in repo/ns/name paths)')
    .argument('<url>', 'git URL or path')
    .option('--ref <ref>', 'branch, tag or commit (default: the remote HEAD)')
    .action(lazy(() => import('./hub.js'), m => m.add))
  hub.command('rm')
    .alias('remove')
    .description('remove a hub source and its templates (what runs keeps running)')
    .argument('<name>', 'source name')
    .action(lazy(() => import('./hub.js'), m => m.rm))
  hub.command('ls')
    .alias('list')
    .description('hub sources: commit, kits, last sync, error')
    .action(lazy(() => import('./hub.js'), m => m.ls))
  hub.command('sync')
    .description('fetch one source (or all) now, on the peer that fetches it, and wait for the result')
    .argument('[name]', 'source name (default: all)')
    .addOption(new Option('--timeout <seconds>', 'how long to wait').default('120'))
    .action(lazy(() => import('./hub.js'), m => m.sync))

  // run.ts
  runOptions(program.command('run'))
    .description('run a runnable or group (waits until it runs and prints where)')
    .argument('<paths...>', 'template paths, e.g. ns/app')
    .action(lazy(() => import('./run.js'), m => m.run))

  runOptions(program.command('update'))
    .description('apply a changed definition or variables to a running workload (starts it if needed)')
    .option('--dry-run', 'change nothing: show what changed since the last run/update and which containers an update replaces')
    .argument('<paths...>', 'template paths')
    .action(lazy(() => import('./run.js'), m => m.update))

  runOptions(program.command('up'))
    .description('load a kit and run it in one step')
    .argument('<source>', 'a YAML file, MANIFEST or directory')
    .argument('[path]', 'what to run (default: the MANIFEST ENTRY, else the only group or runnable)')
    .action(lazy(() => import('./run.js'), m => m.up))

  // workload.ts
  waitOptions(program.command('stop'), STOP_TIMEOUT_S)
    .description('stop a workload; its data stays')
    .argument('[paths...]', 'template paths (or --all, or --tag)')
    .option('-a, --all', 'stop every running workload')
    .option('-t, --tag <tag>', 'only workloads run with this tag or placed on a peer that has it')
    .action(lazy(() => import('./workload.js'), m => m.stop))

  waitOptions(program.command('restart'), WAIT_TIMEOUT_S)
    .description('restart a workload in place')
    .argument('<paths...>', 'template paths')
    .action(lazy(() => import('./workload.js'), m => m.restart))

  waitOptions(program.command('scale'), WAIT_TIMEOUT_S)
    .description('run N replicas of a runnable, spread one per peer where possible (ps shows ns/name#k)')
    .argument('<path>', 'template path of a runnable')
    .argument('<replicas>', 'how many replicas (0 runs none)')
    .action(lazy(() => import('./workload.js'), m => m.scale))

  waitOptions(program.command('purge'), STOP_TIMEOUT_S)
    .description('stop a workload and remove its containers and data')
    .argument('<paths...>', 'template paths')
    .option('-x, --excise', 'also remove the template definitions')
    .action(lazy(() => import('./workload.js'), m => m.purge))

  // ps.ts
  program.command('ps')
    .description('list workloads: where each runs and in what state')
    .option('-a, --all', 'include stopped workloads')
    .option('-p, --peer <name>', 'only workloads on this peer')
    .option('-t, --tag <tag>', 'only workloads on peers with this tag')
    .action(lazy(() => import('./ps.js'), m => m.ps))

  program.command('describe')
    .description('show where a workload runs: peer, containers, images, volumes, ports')
    .argument('<paths...>', 'instances, e.g. ns/app')
    .option('-c, --container <name>', 'only this container (repeatable)', collect, [])
    .action(lazy(() => import('./ps.js'), m => m.describe))

  // logs.ts
  program.command('logs')
    .alias('log')
    .description('print the logs of a workload\'s containers (--follow to stream)')
    .argument('<path>', 'instance, e.g. ns/app')
    .option('-f, --follow', 'keep streaming new lines until Ctrl-C')
    .option('-l, --last <n>', 'how many recent lines per container', String(LOG_LAST))
    .option('-a, --all', 'every line kept, not only the last ones')
    .option('-c, --container <name>', 'only this container')
    .option('--prefix', 'prefix each line with its container name')
    .option('-T, --timestamps', 'prefix each line with its time')
    .action(lazy(() => import('./logs.js'), m => m.logs))

  // exec.ts
  program.command('exec')
    .description('run a command in a workload\'s container (put -- before a command that has options)')
    .argument('<path>', 'instance, e.g. ns/app')
    .argument('<cmd...>', 'command and arguments')
    .option('-c, --container <name>', 'which container (default: the first)')
    .option('-i, --interactive', 'pass this command\'s standard input to the command (read whole, at most 1 MiB, unless -t): echo x | monk exec -i PATH -- cat')
    .option('-t, --tty', 'run it on a terminal, streamed both ways (with -i: keys, Ctrl-C and window size reach it; its exit code is monk\'s): monk exec -it PATH -- sh')
    // `monk exec ns/app ls -la`: commander takes -la for an option of exec; say how to pass it on
    .configureOutput({ outputError: (text, write) => write(/unknown option/.test(text) ? `${text.trimEnd()}\nhint: put -- before the command so its options reach it: monk exec PATH -- CMD ARGS...\n` : text) })
    .action(lazy(() => import('./exec.js'), m => m.exec))

  program.command('shell')
    .description('an interactive shell in a workload\'s container on a terminal (exit N ends it with status N); with piped input, each line runs as its own sh -c')
    .argument('<path>', 'instance, e.g. ns/app')
    .option('-c, --container <name>', 'which container (default: the first)')
    .option('-b, --shell <path>', 'the shell to run', '/bin/sh')
    .action(lazy(() => import('./exec.js'), m => m.shell))

  // port-forward.ts
  program.command('port-forward')
    .description('forward a local port (127.0.0.1) to a workload\'s port on whichever peer runs it; follows a failover')
    .argument('<path>', 'instance, e.g. ns/app')
    .argument('<ports>', '[LOCAL:]REMOTE, e.g. 8080 or 9000:8080 (LOCAL 0: any free port)')
    .option('--address <ip>', 'the local address to listen on', '127.0.0.1')
    .action(lazy(() => import('./port-forward.js'), m => m.portForward))

  // do.ts
  program.command('do')
    .description('run an action of a workload: monk do ns/app/ACTION name=value...')
    .argument('<action>', 'ns/app/ACTION')
    .argument('[args...]', 'arguments as name=value')
    .action(lazy(() => import('./do.js'), m => m.doAction))

  program.command('actions')
    .alias('list-actions')
    .description('list the actions a workload offers and their arguments')
    .argument('<path>', 'instance, e.g. ns/app')
    .action(lazy(() => import('./do.js'), m => m.actions))

  // secrets.ts
  const secrets = program.command('secrets').alias('secret').description('manage secrets (values are never printed)')
  scopeOptions(secrets.command('add').alias('set'))
    .description('add or replace a secret: NAME=VALUE, or NAME with the value on stdin')
    .argument('<secret>', 'NAME=VALUE or NAME')
    .action(lazy(() => import('./secrets.js'), m => m.add))

  scopeOptions(secrets.command('rm').alias('remove'))
    .description('remove a secret')
    .argument('<name>', 'secret name')
    .action(lazy(() => import('./secrets.js'), m => m.rm))

  scopeOptions(secrets.command('list').alias('ls'))
    .description('list secret names (all scopes unless -g or -r)')
    .action(lazy(() => import('./secrets.js'), m => m.list))

  // cluster.ts
  const cluster = program.command('cluster').alias('c').description('form, join and inspect a cluster of monkd peers')
  cluster.command('new')
    .description('make this peer a cluster and print its join token')
    .action(lazy(() => import('./cluster.js'), m => m.create))

  cluster.command('token')
    .description('print a join token: the cluster key and an invite for one role (operators only)')
    .option('--role <role>', 'the role the invite admits: operator or worker', 'operator')
    .option('--uses <n>', 'how many peers may join with it (default: any number until it expires)')
    .option('--ttl <duration>', 'how long it admits peers, e.g. 30m, 12h, 7d; 0 = no expiry', '24h')
    .action(lazy(() => import('./cluster.js'), m => m.token))

  cluster.command('rotate-key')
    .description('give the cluster a new key, sealed for each admitted peer (operators only): removed peers and holders of old tokens can no longer connect')
    .action(lazy(() => import('./cluster-key.js'), m => m.rotateKey))

  cluster.command('join')
    .alias('switch')
    .description('start the local monkd as a member of a cluster; the join token (monk cluster token) comes from --join-file FILE, --join-file - (standard input) or $MONK_JOIN_TOKEN (a home of another cluster is refused)')
    .argument('[token]', 'deprecated (ps shows it to every local user): use --join-file or $MONK_JOIN_TOKEN')
    .option('--join-file <path>', 'read the join token from this file (mode 0600), or from standard input with -')
    .option('-n, --name <name>', 'peer name')
    .option('-t, --tag <tag>', 'peer tag (repeatable)', collect)
    .option('--p2p-port <port>', 'libp2p TCP port')
    .option('--listen <multiaddr>', 'libp2p listen address')
    .option('--runtime <kind>', 'container runtime: auto, docker or process')
    .option('--network-name <name>', 'Docker: a per-peer bridge network for containers that map ports; connection endpoints listen on its gateway')
    .option('-a, --template-autoupdate <minutes>', 'refresh hub kits every MINUTES (default 30, 0 disables)')
    .option('--no-hub-defaults', 'do not add the default monk-io hub sources to a new cluster')
    .option('--timeout <seconds>', 'how long to wait to reach a peer', String(DAEMON_START_TIMEOUT_MS / 1000))
    .action(lazy(() => import('./cluster.js'), m => m.join))

  cluster.command('exit')
    .description('leave the cluster (see the note it prints: monkd keeps its cluster in its home)')
    .action(lazy(() => import('./cluster.js'), m => m.leave))

  cluster.command('peers')
    .description('list the peers of the cluster')
    .option('-t, --tag <tag>', 'only peers with this tag')
    .option('-a, --active', 'only live peers')
    .action(lazy(() => import('./cluster.js'), m => m.peers))

  cluster.command('info')
    .description('this peer: id, name, cluster, addresses')
    .action(lazy(() => import('./cluster.js'), m => m.info))

  cluster.command('peer-tags')
    .alias('peer-tag')
    .description('set this peer\'s tags: monk cluster peer-tags -t a,b (or tags as arguments)')
    .argument('[tags...]', 'tags')
    .option('-t, --tag <tags>', 'tags, comma separated (repeatable)', collect, [])
    .action(lazy(() => import('./cluster.js'), m => m.peerTags))

  registerClusterGrow(cluster)

  // daemon.ts
  const daemon = program.command('daemon').description('run monkd in the background for this user')
  daemon.command('start')
    .description('start monkd in the background (logs to <home>/logs/monkd.log)')
    .option('-n, --name <name>', 'peer name')
    .option('-t, --tag <tag>', 'peer tag (repeatable)', collect)
    .option('--p2p-port <port>', 'libp2p TCP port')
    .option('--listen <multiaddr>', 'libp2p listen address')
    .option('--join <token>', 'deprecated (ps shows it): join with monk cluster join --join-file FILE')
    .option('--runtime <kind>', 'container runtime: auto, docker or process')
    .option('--network-name <name>', 'Docker: a per-peer bridge network for containers that map ports; connection endpoints listen on its gateway')
    .option('--log-level <level>', 'monkd log level')
    .option('--cpu <cores>', 'cores this peer offers to resource requests (default: the machine\'s)')
    .option('--memory <size>', 'memory this peer offers to resource requests, e.g. 8Gi (default: the machine\'s)')
    .option('-a, --template-autoupdate <minutes>', 'refresh hub kits every MINUTES (default 30, 0 disables)')
    .option('--no-hub-defaults', 'do not add the default monk-io hub sources to a new cluster')
    .option('--api-port <port>', 'also serve the control API on 127.0.0.1:PORT for monk --socket tcp://; the token comes from $MONK_API_TOKEN')
    .option('--api-host <addr>', 'the address of --api-port (default 127.0.0.1); beyond loopback the API is TLS only, with a certificate monkd makes and clients pin')
    .action(lazy(() => import('./daemon.js'), m => m.start))

  daemon.command('stop')
    .description('stop monkd (it leaves its cluster cleanly; workloads move to other peers)')
    .action(lazy(() => import('./daemon.js'), m => m.stop))

  daemon.command('status')
    .description('whether monkd runs, and where')
    .action(lazy(() => import('./daemon.js'), m => m.status))

  // gui.ts
  program.command('gui')
    .description('print the web dashboard\'s URL (monkd serves it on --api-port), or open it with xdg-open')
    .option('--no-open', 'only print the URL')
    .action(lazy(() => import('./gui.js'), m => m.gui))

  // status.ts
  program.command('status')
    .description('whether monkd is ready, and this peer\'s cluster')
    .action(lazy(() => import('./status.js'), m => m.status))

  program.command('version')
    .description('versions of the CLI and of the running monkd')
    .action(lazy(() => import('./status.js'), m => m.version))
}
