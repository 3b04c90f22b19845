// First boot of a grown machine: cloud-init user data (aws, digitalocean) or a startup script (gcp)
// that installs Node.js and monk and runs `monkd --join-file FILE --name NAME --tag ...` as a
// systemd service. The token is written to a root-only file and moved into monkd's home (0600,
// owned by monkd): it never appears in a command line. readBootstrap() reads either form back (the
// emulators boot machines from it).
import { dirname } from 'node:path'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { MACHINE_HOME, MONK_PACKAGE, NODE_VERSION, P2P_PORT } from './defaults.js'
import { BootstrapError } from './errors.js'
import { nodeNamePattern, tagPattern } from './provider.js'

export interface BootstrapInput {
  /** Peer name (= node name). */
  readonly name: string
  /** Every tag of the peer, automatic ones (provider, region, zone) included. */
  readonly tags: readonly string[]
  /** The cluster's join token. Secret: it carries the cluster key. */
  readonly join: string
  readonly p2pPort?: number
  readonly nodeVersion?: string
  /** npm spec or tarball URL of monk. */
  readonly package?: string
}

export interface Bootstrap {
  readonly cloudConfig: string
  readonly script: string
  readonly args: readonly string[]
  /** The token the machine joins with (secret): for providers that start monkd themselves (local). */
  readonly join: string
}

export const UNIT_PATH = '/etc/systemd/system/monkd.service'
/** Where cloud-init or the startup script writes the token (root only), before the install moves it. */
export const TOKEN_DROP_PATH = '/etc/monk/join-token'
/** Where monkd reads it (`--join-file`), in its home, owned by monkd, 0600. */
export const JOIN_FILE = `${MACHINE_HOME}/join-token`
const SCRIPT_PATH = '/usr/local/sbin/monk-install'
const HEREDOC = 'MONK_UNIT_EOF'

/** monkd's arguments on the machine. */
export function monkdArgs (i: BootstrapInput): string[] {
  if (!nodeNamePattern.test(i.name)) throw new BootstrapError(`machine name "${i.name}" must be lower case letters, digits and dashes`)
  for (const t of i.tags) if (!tagPattern.test(t)) throw new BootstrapError(`tag "${t}" of ${i.name} must be letters, digits and . _ : @ + = / - (no spaces or quotes)`)
  if (!/^[A-Za-z0-9_-]+$/.test(i.join)) throw new BootstrapError(`the join token for ${i.name} is not base64url`)
  return ['--home', MACHINE_HOME, '--name', i.name, '--p2p-port', String(i.p2pPort ?? P2P_PORT), ...i.tags.flatMap(t => ['--tag', t]), '--join-file', JOIN_FILE]
}

function unit (args: readonly string[]): string {
  return [
    '[Unit]',
    'Description=monkd, the monk peer',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    'User=monkd',
    'Group=monkd',
    'SupplementaryGroups=docker',
    `ExecStart=/usr/local/bin/monkd ${args.join(' ')}`,
    'Restart=always',
    'RestartSec=2',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=20',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

/** Installs Node.js and monk, then starts the unit; runs as root, idempotent. */
function installScript (i: BootstrapInput): string {
  const node = i.nodeVersion ?? NODE_VERSION
  if (!/^\d+\.\d+\.\d+$/.test(node)) throw new BootstrapError(`Node.js version "${node}" is not x.y.z`)
  const pkg = i.package ?? MONK_PACKAGE
  if (!/^[A-Za-z0-9@._:/+=~-]+$/.test(pkg)) throw new BootstrapError(`monk package "${pkg}" must be an npm spec or a URL without spaces or quotes`)
  return [
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive',
    'id monkd >/dev/null 2>&1 || useradd --system --home-dir /var/lib/monkd --create-home --shell /usr/sbin/nologin monkd',
    '(apt-get update -q && apt-get install -y -q docker.io curl xz-utils) || true',
    'getent group docker >/dev/null && usermod -aG docker monkd || groupadd -f docker',
    'case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "unsupported machine $(uname -m)" >&2; exit 1 ;; esac',
    `node_dir=/opt/node-v${node}-linux-$arch`,
    `[ -x "$node_dir/bin/node" ] || curl -fsSL "https://nodejs.org/dist/v${node}/node-v${node}-linux-$arch.tar.xz" | tar -xJ -C /opt`,
    'ln -sf "$node_dir/bin/node" /usr/local/bin/node',
    `[ -x /opt/monk/bin/monkd ] || "$node_dir/bin/npm" install -g --prefix /opt/monk ${pkg}`,
    'ln -sf /opt/monk/bin/monkd /usr/local/bin/monkd',
    'ln -sf /opt/monk/bin/monk /usr/local/bin/monk',
    `install -d -o monkd -g monkd -m 0700 ${MACHINE_HOME}`,
    // the token goes to monkd's home, readable by monkd only; the root-only drop is removed
    `if [ -f ${TOKEN_DROP_PATH} ]; then install -o monkd -g monkd -m 0600 ${TOKEN_DROP_PATH} ${JOIN_FILE} && rm -f ${TOKEN_DROP_PATH}; fi`,
    'systemctl daemon-reload',
    'systemctl enable --now monkd.service',
  ].join('\n') + '\n'
}

/** The cloud-init user data and the startup script for one machine. */
export function bootstrap (i: BootstrapInput): Bootstrap {
  const args = monkdArgs(i)
  const install = installScript(i)
  const cloudConfig = '#cloud-config\n' + stringifyYaml({
    write_files: [
      { path: UNIT_PATH, permissions: '0600', owner: 'root:root', content: unit(args) },
      { path: SCRIPT_PATH, permissions: '0700', owner: 'root:root', content: '#!/bin/bash\n' + install },
      { path: TOKEN_DROP_PATH, permissions: '0600', owner: 'root:root', content: i.join + '\n' },
    ],
    runcmd: [[SCRIPT_PATH]],
  }, { lineWidth: 0 })
  const script = [
    '#!/bin/bash',
    '# monk bootstrap (GCE startup-script): runs at every boot; installs once, then keeps monkd enabled',
    `umask 077`,
    // a machine already joined keeps its home's cluster: the token is written only before that
    `if [ ! -d ${MACHINE_HOME}/data ]; then mkdir -p ${dirname(TOKEN_DROP_PATH)} && echo ${i.join} > ${TOKEN_DROP_PATH}; fi`,
    `cat > ${UNIT_PATH} <<'${HEREDOC}'`,
    unit(args) + HEREDOC,
    install,
  ].join('\n')
  return { cloudConfig, script, args, join: i.join }
}

/** What a machine would run, read back from user data or a startup script. */
export interface ReadBootstrap {
  readonly args: string[]
  readonly name: string
  readonly tags: string[]
  /** The token the machine joins with (from the token file the bootstrap writes). */
  readonly join: string
  readonly p2pPort: number
}

/** Reads the monkd command line back from `text` (either form). Throws BootstrapError. */
export function readBootstrap (text: string): ReadBootstrap {
  let unitText: string | undefined
  let dropped: string | undefined
  if (text.startsWith('#cloud-config')) {
    let doc: unknown
    try { doc = parseYaml(text) } catch (err) { throw new BootstrapError(`user data is not valid YAML: ${(err as Error).message}`) }
    const files = (doc as { write_files?: unknown } | null)?.write_files
    if (Array.isArray(files)) {
      const f = files.find(x => (x as { path?: unknown })?.path === UNIT_PATH) as { content?: unknown } | undefined
      if (typeof f?.content === 'string') unitText = f.content
      const t = files.find(x => (x as { path?: unknown })?.path === TOKEN_DROP_PATH) as { content?: unknown } | undefined
      if (typeof t?.content === 'string') dropped = t.content.trim()
    }
  } else if (text.startsWith('#!')) {
    const start = text.indexOf(`<<'${HEREDOC}'\n`)
    const end = text.indexOf(`\n${HEREDOC}\n`, start)
    if (start >= 0 && end > start) unitText = text.slice(start + HEREDOC.length + 5, end)
    dropped = new RegExp(`echo ([A-Za-z0-9_-]+) > ${TOKEN_DROP_PATH}`).exec(text)?.[1]
  }
  if (unitText === undefined) throw new BootstrapError(`no ${UNIT_PATH} in the user data: not a monk bootstrap`)
  const line = unitText.split('\n').find(l => l.startsWith('ExecStart='))
  if (line === undefined) throw new BootstrapError('the monkd unit has no ExecStart line')
  const words = line.slice('ExecStart='.length).trim().split(/\s+/)
  const args = words.slice(1)
  const tags: string[] = []
  let name = ''
  let join = ''
  let p2pPort = P2P_PORT
  for (let k = 0; k < args.length; k++) {
    const a = args[k]
    const v = args[k + 1] ?? ''
    if (a === '--tag') { tags.push(v); k++ } else if (a === '--name') { name = v; k++ } else if (a === '--join') { join = v; k++ } else if (a === '--join-file') { join = v === JOIN_FILE ? dropped ?? '' : ''; k++ } else if (a === '--p2p-port') { p2pPort = Number(v); k++ } else if (a === '--home') k++
  }
  if (name === '' || join === '') throw new BootstrapError(`the monkd unit does not give --name and a join token (--join-file ${JOIN_FILE} written from ${TOKEN_DROP_PATH})`)
  return { args, name, tags, join, p2pPort }
}
