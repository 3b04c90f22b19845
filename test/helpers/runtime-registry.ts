// A minimal Docker registry (HTTP API v2, pull only) on 127.0.0.1 serving one busybox image, so
// the docker runtime's pull path and progress events are tested without reaching the internet.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, copyFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

export interface FakeRegistry {
  port: number
  /** `127.0.0.1:PORT/REPO:TAG` of the image it serves. */
  image: string
  /** Requests it answered, `METHOD path`. */
  requests: string[]
  close: () => Promise<void>
}

const sha = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex')

/** Serve `repo:tag` whose one layer is a static busybox with `sh` (from the host's /bin/busybox). */
export async function startFakeRegistry (repo: string, tag: string): Promise<FakeRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'monk-registry-'))
  let layerTar: Buffer
  try {
    mkdirSync(join(dir, 'bin'))
    mkdirSync(join(dir, 'tmp'))
    copyFileSync('/bin/busybox', join(dir, 'bin/busybox'))
    for (const applet of ['sh', 'echo', 'sleep', 'cat']) symlinkSync('busybox', join(dir, 'bin', applet))
    writeFileSync(join(dir, 'pulled'), 'pulled from the fake registry\n')
    layerTar = execFileSync('tar', ['-C', dir, '-cf', '-', '.'], { maxBuffer: 64 * 1024 * 1024 })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const layer = gzipSync(layerTar)
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [sha(layerTar)] },
    history: [{ created_by: 'monk test registry' }]
  }))
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha(layer) }]
  }))
  const blobs = new Map<string, Buffer>([[sha(layer), layer], [sha(config), config]])
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/'
    requests.push(`${req.method ?? ''} ${url}`)
    const send = (status: number, body: Buffer | string, type: string, headers: Record<string, string> = {}): void => {
      const b = typeof body === 'string' ? Buffer.from(body) : body
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(b.length), 'Docker-Distribution-API-Version': 'registry/2.0', ...headers })
      res.end(req.method === 'HEAD' ? undefined : b)
    }
    if (url === '/v2/' || url === '/v2') return send(200, '{}', 'application/json')
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/?]+)$/.exec(url)
    if (m?.[2] === 'manifests' && m[1] === repo && (m[3] === tag || m[3] === sha(manifest))) {
      return send(200, manifest, 'application/vnd.docker.distribution.manifest.v2+json', { 'Docker-Content-Digest': sha(manifest) })
    }
    if (m?.[2] === 'blobs' && m[1] === repo) {
      const blob = blobs.get(m[3] as string)
      if (blob) return send(200, blob, 'application/octet-stream', { 'Docker-Content-Digest': m[3] as string })
    }
    const code = m?.[2] === 'blobs' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN'
    send(404, JSON.stringify({ errors: [{ code, message: `${code.toLowerCase().replace('_', ' ')}` }] }), 'application/json')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  const port = typeof addr === 'object' && addr ? addr.port : 0
  return {
    port,
    image: `127.0.0.1:${port}/${repo}:${tag}`,
    requests,
    close: async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }); server.closeAllConnections() }) }
  }
}
