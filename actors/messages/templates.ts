// Messages of the templates handler: load a kit into the replica, list and inspect what is loaded.
import * as v from 'valibot'
import { list, message, path, strMap, text } from './fields.js'

export const templateRequests = {
  'templates.load': message('templates.load', { files: strMap(8 << 20, 10_000), paths: list(text(1, 4096), 1, 1000) }),
  'templates.list': message('templates.list', { kind: v.optional(text(0, 64)) }),
  'templates.info': message('templates.info', { path }),
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

export interface TemplateRow { path: string, kind: string, file: string }

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
}

export interface TemplatesReplies {
  'templates.load': LoadReply
  'templates.list': TemplateRow[]
  'templates.info': TemplateInfo
}
