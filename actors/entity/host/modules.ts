// The host modules one invocation offers its guest, built over the daemon's narrow dependencies:
// cli/console output, secrets gated by permitted-secrets, http, crypto, fs over the instance's
// files, action.do, sleep/btoa/atob and the cloud modules.
import { createHash, createHmac, randomInt } from 'node:crypto'
import { OUTPUT_MAX_LINES } from '../defaults.js'
import { EntityError } from '../errors.js'
import type { HostModule } from '../sandbox.js'
import { awsModule, azureModule, digitaloceanModule, gcpModule, type CloudCredentials } from './cloud.js'
import { httpModule } from './http.js'

/** The secret store as an entity sees it (scopes: the instance path, then `global`). */
export interface SecretStore {
  read: (scope: string, name: string) => string | undefined
  write: (scope: string, name: string, value: string) => Promise<void>
  remove: (scope: string, name: string) => Promise<void>
}

export interface EntityHostDeps {
  /** The instance path `ns/name`. */
  instance: string
  permittedSecrets: readonly string[]
  secrets: SecretStore
  /** The instance's `files`, by name. */
  files: Readonly<Record<string, string>>
  /** `action.do("ns/x/act", args)`: runs another node's action. */
  act: (path: string, args: Record<string, string>) => Promise<string>
  cloud: CloudCredentials
  /** Blocking sleep for the guest (the injected clock). */
  sleep: (ms: number) => Promise<void>
  fetch?: typeof fetch
  /** Base of relative `cloud/digitalocean` URLs. */
  digitaloceanBase?: string
}

/** Lines the guest wrote through cli.output and console, in order. */
export class Output {
  readonly lines: string[] = []
  dropped = 0
  push (s: string): void { if (this.lines.length < OUTPUT_MAX_LINES) this.lines.push(s); else this.dropped++ }
}

const str = (v: unknown): string => typeof v === 'string' ? v : JSON.stringify(v)
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

function secretModule (d: EntityHostDeps): HostModule {
  const gate = (fn: string, name: unknown): string => {
    if (typeof name !== 'string' || name === '') throw new EntityError('entity-failed', `secret.${fn}: the name must be a non-empty string`)
    if (!d.permittedSecrets.includes(name)) throw new EntityError('entity-failed', `${d.instance} may not use secret "${name}": list it under permitted-secrets`)
    return name
  }
  return {
    get: (name: unknown) => {
      const n = gate('get', name)
      for (const scope of [d.instance, 'global']) { const v = d.secrets.read(scope, n); if (v !== undefined) return v }
      throw new EntityError('entity-failed', `secret "${n}" does not exist (add it with monk secrets add -r ${d.instance} ${n}=...)`)
    },
    set: async (name: unknown, value: unknown) => { await d.secrets.write(d.instance, gate('set', name), str(value)) },
    remove: async (name: unknown) => { await d.secrets.remove(d.instance, gate('remove', name)) },
    randString: (n: unknown) => {
      const len = Math.min(4096, Math.max(1, Number(n) || 16))
      let s = ''
      for (let i = 0; i < len; i++) s += ALNUM[randomInt(ALNUM.length)]
      return s
    },
  }
}

/** Every built-in module an entity may require, by require name. */
export function hostModules (d: EntityHostDeps, out: Output): Record<string, HostModule> {
  const f = d.fetch ?? fetch
  return {
    cli: { output: (...a: unknown[]) => { out.push(a.map(str).join(' ')) } },
    secret: secretModule(d),
    http: httpModule(f),
    crypto: {
      sha256: (s: unknown) => createHash('sha256').update(str(s)).digest('hex'),
      hmac: (key: unknown, data: unknown) => createHmac('sha256', str(key)).update(str(data)).digest('hex'),
    },
    fs: {
      ls: () => Object.keys(d.files).sort(),
      readFile: (name: unknown) => {
        const v = d.files[String(name)]
        if (v === undefined) throw new EntityError('entity-failed', `fs.readFile: ${d.instance} has no file "${String(name)}" (files: ${Object.keys(d.files).join(', ') || 'none'})`)
        return v
      },
    },
    action: {
      do: (path: unknown, args: unknown) => d.act(String(path), Object.fromEntries(Object.entries(args !== null && typeof args === 'object' ? args : {}).map(([k, v]) => [k, str(v)]))),
    },
    'cloud/aws': awsModule(d.cloud, f),
    'cloud/gcp': gcpModule(d.cloud, f),
    'cloud/digitalocean': digitaloceanModule(d.cloud, d.digitaloceanBase, f),
    'cloud/azure': azureModule(),
    $globals: {
      sleep: (ms: unknown) => d.sleep(Math.max(0, Number(ms) || 0)),
      btoa: (s: unknown) => Buffer.from(str(s), 'latin1').toString('base64'),
      atob: (s: unknown) => Buffer.from(str(s), 'base64').toString('latin1'),
      log: (level: unknown, line: unknown) => { out.push(level === 'log' || level === 'info' ? str(line) : `${str(level)}: ${str(line)}`) },
    },
  }
}
