// Messages of the templates handler: load a kit into the replica, list and inspect what is loaded.
import * as v from 'valibot'
import { int, list, message, path, strMap, text } from './fields.js'

export const templateRequests = {
  'templates.load': message('templates.load', { files: strMap(8 << 20, 10_000), paths: list(text(1, 4096), 1, 1000) }),
  'templates.list': message('templates.list', { kind: v.optional(text(0, 64)) }),
  'templates.info': message('templates.info', { path }),
  'templates.search': message('templates.search', { words: list(text(1, 256), 1, 32) }),
  'templates.hub-defs': message('templates.hub-defs', { texts: list(text(0, 8 << 20), 0, 10_000) }),
  'hub.add': message('hub.add', { name: text(1, 64), url: text(1, 4096), ref: v.optional(text(1, 256)) }),
  'hub.rm': message('hub.rm', { name: text(1, 64) }),
  'hub.ls': message('hub.ls', {}),
  'hub.sync': message('hub.sync', { name: v.optional(text(1, 64)), timeout: v.optional(int(1, 3600)) }),
} as const

export type TemplatesRequest = v.InferOutput<typeof templateRequests[keyof typeof templateRequests]>

export interface Diagnostic { code: string, message: string, file: string, line: number, column: number }

export interface LoadReply {
  files: number
  loaded: string[]
  /** Templates whose resolved definition this load changed (its own, and earlier ones that build on them). */
  changed?: string[]
  nodes: Record<string, number>
  errors: Diagnostic[]
  warnings: Diagnostic[]
}

export interface TemplateRow {
  path: string
  kind: string
  file: string
  /** `local` for loaded templates, else the hub source. */
  repo: string
  version: string | null
  tags: string[]
  description: string | null
  /** Hub templates: the commit they last changed at. */
  commit?: string
  /** A running hub template whose hub version changed since it was run (`monk update` takes it). */
  changed?: boolean
}

/** `templates.hub-defs`: a hub definition (before inheritance), for `monk lint` to build on offline. */
export interface HubDef {
  path: string
  namespace: string
  name: string
  repo: string
  pos: { file: string, line: number, column: number }
  value: Record<string, unknown>
  locs: Record<string, [number, number]>
}

/** `hub ls`: a source and the state of its last sync. */
export interface HubRow {
  name: string
  url: string
  ref: string | null
  commit: string | null
  kits: number
  templates: number
  syncedAt: number | null
  triedAt: number | null
  error: string | null
  broken: Array<{ kit: string, error: string }>
  /** The peer that fetched last, and the one that fetches now. */
  by: string
  fetcher: string
  written: number
  deleted: number
  /** What this source's template records take in this peer's replica (keys and JSON values, bytes). */
  bytes: number
}

/** `templates.info`: the replicated template record (value with inheritance applied). */
export interface TemplateInfo {
  path: string
  kind: string
  value: Record<string, unknown>
  members: string[]
  groups: string[]
  chain: string[]
  /** Set when a later load broke this template: it keeps its last definition until loaded again. */
  problem?: string
  file: string
  loadedAt: number
  /** Where it came from: `local`, or the hub source with its commit, file and line. */
  repo?: string
  commit?: string
  line?: number
  url?: string
  version?: string | null
  tags?: string[]
  description?: string | null
}

export interface TemplatesReplies {
  'templates.load': LoadReply
  'templates.list': TemplateRow[]
  'templates.info': TemplateInfo
  'templates.search': TemplateRow[]
  'templates.hub-defs': HubDef[]
  'hub.add': HubRow
  'hub.rm': { removed: string, templates: number }
  'hub.ls': HubRow[]
  'hub.sync': HubRow[]
}
