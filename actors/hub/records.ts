// Hub records in the replica (spec §7): sources (cluster settings), each source's sync status, sync
// requests, and one record per hub template, keyed by source and template path. A template record
// carries the commit it last changed at and a content hash, so a sync rewrites only what changed.
import type { MapValue } from '../../grammar/monkscript/index.js'
import { decodeDef, encodeDef, type TplDef } from '../templates.js'
import { decodeTpl, encodeTpl, type TplRecord } from '../state.js'
import { isObj } from '../values.js'

export const hubKeys = {
  source: (name: string) => `hub/src/${name}`,
  status: (name: string) => `hub/status/${name}`,
  /** A sync request: any peer bumps it, the source's fetcher answers in the status. */
  want: (name: string) => `hub/want/${name}`,
  kit: (source: string, path: string) => `hub/t/${source}/${path}`,
  kitPrefix: (source: string) => `hub/t/${source}/`,
  /** Set once the default sources were written, so a removed default stays removed. */
  seeded: 'hub/seeded',
} as const

export interface HubSource { name: string, url: string, ref: string | null, addedAt: number }

export interface HubStatus {
  commit: string | null
  /** Kits (MANIFEST directories) and templates the last good sync gave. */
  kits: number
  templates: number
  syncedAt: number | null
  /** The last attempt (good or not) and its problem; null when it worked. */
  triedAt: number | null
  error: string | null
  /** Kits that did not compile at `commit`: they keep their previous version. */
  broken: Array<{ kit: string, error: string }>
  /** The sync request (hub/want) this status answers. */
  handled: number
  /** The peer that fetched. */
  by: string
  /** Template records the last sync wrote and deleted (unchanged ones are left alone). */
  written: number
  deleted: number
}

/** Kit metadata: from its MANIFEST (VERSION, TAGS, DESCRIPTION) and the template's `metadata`. */
export interface KitMeta { version: string | null, tags: string[], description: string | null }

export interface HubKit {
  source: string
  /** The kit's directory in the repository ('' for the root) and the commit it last changed at. */
  kit: string
  commit: string
  /** Content hash of def + tpl + meta (not the commit): equal hash, no write. */
  hash: string
  /** Repository-relative file and line of the definition. */
  file: string
  line: number
  def: TplDef
  tpl: TplRecord
  meta: KitMeta
}

const str = (v: unknown): string | null => typeof v === 'string' ? v : null
const num = (v: unknown, d = 0): number => typeof v === 'number' && Number.isFinite(v) ? v : d
const strs = (v: unknown): string[] => Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []

export function encodeSource (s: HubSource): MapValue { return { name: s.name, url: s.url, ref: s.ref, addedAt: s.addedAt } }
export function decodeSource (v: unknown): HubSource | undefined {
  if (!isObj(v) || typeof v.name !== 'string' || typeof v.url !== 'string') return undefined
  return { name: v.name, url: v.url, ref: str(v.ref), addedAt: num(v.addedAt) }
}

export function encodeStatus (s: HubStatus): MapValue {
  return { ...s, broken: s.broken.map(b => ({ ...b })) }
}
export function decodeStatus (v: unknown): HubStatus | undefined {
  if (!isObj(v)) return undefined
  const broken = Array.isArray(v.broken) ? v.broken.flatMap(b => isObj(b) && typeof b.kit === 'string' && typeof b.error === 'string' ? [{ kit: b.kit, error: b.error }] : []) : []
  return {
    commit: str(v.commit), kits: num(v.kits), templates: num(v.templates), syncedAt: typeof v.syncedAt === 'number' ? v.syncedAt : null,
    triedAt: typeof v.triedAt === 'number' ? v.triedAt : null, error: str(v.error), broken, handled: num(v.handled), by: str(v.by) ?? '', written: num(v.written), deleted: num(v.deleted),
  }
}

export function encodeKit (k: HubKit): MapValue {
  return { source: k.source, kit: k.kit, commit: k.commit, hash: k.hash, file: k.file, line: k.line, def: encodeDef(k.def), tpl: encodeTpl(k.tpl), meta: { version: k.meta.version, tags: [...k.meta.tags], description: k.meta.description } }
}
export function decodeKit (v: unknown): HubKit | undefined {
  if (!isObj(v) || typeof v.source !== 'string' || typeof v.hash !== 'string' || typeof v.commit !== 'string') return undefined
  const def = decodeDef(v.def)
  const tpl = decodeTpl(v.tpl)
  if (!def || !tpl) return undefined
  const meta = isObj(v.meta) ? v.meta : {}
  return { source: v.source, kit: str(v.kit) ?? '', commit: v.commit, hash: v.hash, file: str(v.file) ?? '', line: num(v.line), def, tpl, meta: { version: str(meta.version), tags: strs(meta.tags), description: str(meta.description) } }
}

/** The default sources: the public monk-io kit repositories (spec Appendix A). */
export const defaultSources: ReadonlyArray<{ name: string, url: string }> = [
  'monk-aerospike', 'monk-airbyte', 'monk-appsmith', 'monk-artifactory', 'monk-bird', 'monk-cassandra', 'monk-chatwoot', 'monk-chroma',
  'monk-consul', 'monk-coredns', 'monk-couchdb', 'monk-directus', 'monk-dokuwiki', 'monk-dolphindb', 'monk-dragonflydb', 'monk-druid',
  'monk-drupal', 'monk-entities', 'monk-etcd', 'monk-fluentbit', 'monk-graphite', 'monk-growthbook', 'monk-hadoop', 'monk-haproxy',
  'monk-hasura', 'monk-hazelcast', 'monk-httpd', 'monk-jitsu', 'monk-kafka', 'monk-keycloak', 'monk-kong', 'monk-langfuse', 'monk-mariadb',
  'monk-mattermost', 'monk-memcached', 'monk-metabase', 'monk-minio', 'monk-mongodb', 'monk-mosquitto', 'monk-mssql', 'monk-mysql', 'monk-n8n',
  'monk-neo4j', 'monk-nexus', 'monk-nginx', 'monk-ollama', 'monk-opengpts', 'monk-openllm', 'monk-opensearch', 'monk-papercups', 'monk-pgadmin',
  'monk-phpmyadmin', 'monk-polygon', 'monk-postgres', 'monk-prometheus-grafana', 'monk-qdrant', 'monk-questdb', 'monk-rabbitmq', 'monk-radicle',
  'monk-redis', 'monk-rudderstack', 'monk-solana', 'monk-solr', 'monk-sonarqube', 'monk-strapi', 'monk-superset', 'monk-tensorflow', 'monk-tig',
  'monk-timescaledb', 'monk-trino', 'monk-vault', 'monk-vaultwarden', 'monk-wordpress', 'monk-zookeeper',
].map(r => ({ name: r, url: `https://github.com/monk-io/${r}.git` }))

/** A source name is one replica key segment and a repository id in paths (`repo/ns/name`). */
export function sourceNameProblem (name: string): string | undefined {
  return /^[a-z0-9][a-z0-9._-]{0,63}$/i.test(name) && name !== 'local' && name !== 'templates' ? undefined : `a hub source name is letters, digits, ".", "_" or "-" (at most 64, not "local" or "templates"), got "${name}"`
}
