// Plumbing shared by the commands that talk to monkd: the home and its socket, a client imported
// lazily (so `monk --help` never loads node:http), daemon errors turned into CLI errors, and the
// split between data (stdout; JSON with --output json) and human notes (stderr, not with -q).
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import type { ApiClient, CreateConnection, RequestOptions, StreamOptions } from '../api/client.js'
import type { PeerMessage, ReplyOf, RunnableMessage, StreamOf } from '../api/messages.js'
import type { ApiMessage } from '../api/protocol.js'
import { normalisePath } from '../../actors/paths.js'
import { apiToken, parseAddress } from '../address.js'
import { CliError, exitCodes, globals, green, red, yellow, type GlobalOptions } from '../output.js'

export type { PeerMessage, RunnableMessage }
export type RunnablePath = `runnable/${string}`

/** One message to the addressed actor kind; the reply type is the message's (actors/messages). */
export interface Request {
  <M extends PeerMessage>(path: 'peer', message: M, opts?: RequestOptions): Promise<ReplyOf<M['type']>>
  <M extends RunnableMessage>(path: RunnablePath, message: M, opts?: RequestOptions): Promise<ReplyOf<M['type']>>
}

/** A streamed reply; the item type is the message's stream type. */
export interface Stream {
  <M extends PeerMessage>(path: 'peer', message: M, opts?: StreamOptions): AsyncGenerator<StreamOf<M['type']>, void, undefined>
  <M extends RunnableMessage>(path: RunnablePath, message: M, opts?: StreamOptions): AsyncGenerator<StreamOf<M['type']>, void, undefined>
}

export interface Session {
  readonly g: GlobalOptions
  /** `--home`, else `$MONK_HOME`, else `~/.monk`. */
  readonly home: string
  /** `<home>/monkd.sock`. */
  readonly socket: string
  readonly json: boolean
  /** One message to one actor; daemon errors become CliErrors with the daemon's code. */
  request: Request
  /** A streamed reply (logs --follow, a waited run); errors as for request. */
  stream: Stream
  /** An upgraded stream (shell, port-forward) at `urlPath`; errors as for request. */
  upgrade: (urlPath: string) => Promise<import('../api/upgrade-client.js').Upgraded>
  /** Resolves if monkd answers its ping; rejects with a CliError (`daemon-down`) otherwise. */
  ping: (opts?: RequestOptions) => Promise<Record<string, unknown>>
  /** Data for humans on stdout (never with --output json). */
  print: (text: string) => void
  /** A human note on stderr (not with -q or --output json). */
  note: (text: string) => void
  /** Colours a status word when colours are on. */
  status: (s: string) => string
}

export function homeOf (g: GlobalOptions): string {
  return g.home ?? join(homedir(), '.monk')
}

export function session (cmd: Command): Session {
  const g = globals(cmd)
  const home = homeOf(g)
  const json = g.output === 'json'
  const address = g.socket !== undefined ? parseAddress(g.socket) : undefined
  const socket = address?.text ?? `${home.replace(/\/+$/, '')}/monkd.sock`
  // TLS beyond loopback: the certificate is pinned on first use in <home>/known-monkds (api/tls-pin.ts)
  const connector = async (): Promise<CreateConnection | undefined> => {
    if (address?.kind !== 'tcp' || !address.tls) return undefined
    const { pinnedConnection, KNOWN_MONKDS } = await import('../api/tls-pin.js')
    return pinnedConnection(address.host, address.port, { file: join(home, KNOWN_MONKDS), onPin: text => { process.stderr.write(text + '\n') } })
  }
  let client: Promise<ApiClient> | undefined
  const getClient = (): Promise<ApiClient> => {
    client ??= Promise.all([import('../api/client.js'), connector()]).then(([m, connect]) => m.createClient(address?.kind === 'tcp'
      ? { url: `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`, token: apiToken(g.tokenFile), ...(connect ? { connect } : {}) }
      : { socketPath: address?.path ?? socket }))
    return client
  }
  // a refused token names where it came from, never the token
  const refused = (e: unknown): unknown => (e as { code?: string }).code === 'unauthorized' && address?.kind === 'tcp'
    ? new CliError('unauthorized', `monkd at ${address.text} refused the API token (from ${process.env.MONK_API_TOKEN !== undefined && process.env.MONK_API_TOKEN !== '' ? '$MONK_API_TOKEN' : g.tokenFile ?? process.env.MONK_API_TOKEN_FILE ?? 'nowhere'}): check it matches the MONK_API_TOKEN monkd was started with`)
    : e
  return {
    g,
    home,
    socket,
    json,
    async request (path: string, message: ApiMessage, opts?: RequestOptions): Promise<never> {
      const c = await getClient()
      try {
        return await c.request<never>(path, message, opts)
      } catch (e) {
        throw cliErrorOf(refused(e))
      }
    },
    stream: async function * (path: string, message: ApiMessage, opts?: StreamOptions): AsyncGenerator<never, void, undefined> {
      const c = await getClient()
      try {
        yield * c.stream<never>(path, message, opts)
      } catch (e) {
        throw cliErrorOf(refused(e))
      }
    },
    async upgrade (urlPath: string) {
      const { openUpgrade } = await import('../api/upgrade-client.js')
      try {
        const connect = await connector()
        return await openUpgrade(address?.kind === 'tcp' ? { host: address.host, port: address.port, token: apiToken(g.tokenFile), ...(connect ? { connect } : {}) } : { socketPath: address?.path ?? socket }, urlPath)
      } catch (e) {
        throw cliErrorOf(refused(e))
      }
    },
    async ping (opts?: RequestOptions): Promise<Record<string, unknown>> {
      const c = await getClient()
      try {
        return await c.ping(opts) as Record<string, unknown>
      } catch (e) {
        throw cliErrorOf(refused(e))
      }
    },
    print: text => { if (!json) process.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n') },
    note: text => { if (!json && !g.quiet) process.stderr.write(text.endsWith('\n') ? text : text + '\n') },
    status: s => statusColour(g.color, s),
  }
}

/** Any error as a CliError: API errors keep their code (`daemon-down`, `not-found`, ...). */
export function cliErrorOf (e: unknown): CliError {
  if (e instanceof CliError) return e
  const err = e as { code?: unknown, message?: unknown } | undefined
  const message = typeof err?.message === 'string' && err.message !== '' ? err.message : String(e)
  const code = typeof err?.code === 'string' && err.code !== '' ? err.code : 'internal'
  return new CliError(code, message, exitCodes.failure, { cause: e })
}

export function statusColour (on: boolean, s: string): string {
  if (s === 'running' || s === 'ok' || s === 'alive' || s === 'yes') return green(on, s)
  if (s === 'failed' || s === 'dead' || s === 'no' || s === 'error' || s === 'exited') return red(on, s)
  if (s === 'starting' || s === 'stopping' || s === 'pending' || s === 'waiting' || s === 'created') return yellow(on, s)
  return s
}

/** The actor of an instance: `runnable/ns/name` (accepts `local/ns/name` and `templates/local/ns/name`). */
export function runnableActor (path: string): RunnablePath {
  return `runnable/${templatePath(path)}`
}

/** A template path as the daemon knows it: no leading slash, no `templates/local/` or `local/` prefix. */
export function templatePath (path: string): string {
  return normalisePath(path)
}

/** Rejects an empty or whitespace path before anything is sent. */
export function requirePath (path: string, what = 'a template path like ns/name'): string {
  const p = templatePath(path)
  if (p === '' || /\s/.test(p) || !p.includes('/')) throw new CliError('bad-path', `"${path}" is not ${what}`, exitCodes.usage)
  return p
}

/** Instance names out of a `{instances: [...]}` reply (strings or `{instance}` objects). */
export function instancesOf (reply: unknown): string[] {
  const list = (reply as { instances?: unknown } | null)?.instances
  if (!Array.isArray(list)) return []
  return list.flatMap(i => typeof i === 'string' ? [i] : typeof (i as { instance?: unknown })?.instance === 'string' ? [(i as { instance: string }).instance] : [])
}
