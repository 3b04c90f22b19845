// A self-signed X.509 v3 certificate for monkd's TLS control listener, made with node:crypto
// alone: an ECDSA P-256 key pair, and a small DER encoder for the certificate (RFC 5280) with the
// host's names and addresses as subjectAltName. Clients do not check the chain or the name: they
// pin the certificate's SHA-256 fingerprint on first use (tls-pin.ts), so the names are for humans
// and for tools like `openssl s_client`.
import { X509Certificate, createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'

// ---- DER, just what a certificate needs ---------------------------------------------------------

function len (n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

/** One TLV: tag byte, DER length, contents. */
export function tlv (tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(content.length), content])
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items))
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items))
const octets = (b: Buffer): Buffer => tlv(0x04, b)
const bits = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]))
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'))
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]))
/** [n] EXPLICIT (constructed, context-specific). */
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner)

/** A non-negative INTEGER from big-endian bytes (leading zeros dropped, a 0 added if the top bit is set). */
export function uint (b: Buffer): Buffer {
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  const body = b.subarray(i)
  return tlv(0x02, (body[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), body]) : body)
}

/** An OBJECT IDENTIFIER from dotted text. */
export function oid (dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const out: number[] = [40 * arcs[0]! + arcs[1]!]
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f))
    out.push(...chunk)
  }
  return tlv(0x06, Buffer.from(out))
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function time (d: Date): Buffer {
  const iso = d.toISOString() // 2026-12-07T16:35:25.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z' // 20261207163525Z
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2))) : tlv(0x18, Buffer.from(digits))
}

// ---- the certificate -----------------------------------------------------------------------------

const ECDSA_SHA256 = '1.2.840.10045.4.3.2'
const CN = '2.5.4.3'
const O = '2.5.4.10'

function name (cn: string): Buffer {
  return seq(set(seq(oid(O), utf8('monk'))), set(seq(oid(CN), utf8(cn))))
}

/** The binary form of an IPv4 or IPv6 address (for an iPAddress subjectAltName). */
export function ipBytes (ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number))
  const [head = '', tail] = ip.split('::')
  const groups = (s: string): number[] => s === '' ? [] : s.split(':').map(g => parseInt(g, 16))
  const h = groups(head)
  const t = tail === undefined ? [] : groups(tail)
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
  const out = Buffer.alloc(16)
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2))
  return out
}

function extension (id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value))
}

function subjectAltName (names: readonly string[]): Buffer {
  const general = names.map(n => isIP(n) !== 0
    ? tlv(0x87, ipBytes(n.replace(/%.*$/, ''))) // [7] iPAddress
    : tlv(0x82, Buffer.from(n, 'ascii'))) // [2] dNSName
  return seq(...general)
}

export interface MadeCert {
  /** PEM, PKCS#8. */
  readonly key: string
  /** PEM. */
  readonly cert: string
  /** `AB:CD:…`, the SHA-256 of the certificate's DER, as node's X509Certificate.fingerprint256. */
  readonly fingerprint: string
}

export interface CertOptions {
  /** The subject's common name (monkd's peer name). */
  readonly commonName: string
  /** DNS names and IP addresses for subjectAltName (duplicates and zone ids are dropped). */
  readonly names: readonly string[]
  readonly days?: number
  readonly now?: Date
}

/** A new ECDSA P-256 key and a self-signed certificate for it, checked by node's own parser. */
export function makeSelfSignedCert (opts: CertOptions): MadeCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const der = certificateDer(privateKey, publicKey, opts)
  const cert = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`
  const parsed = new X509Certificate(cert)
  if (!parsed.verify(publicKey)) throw new Error('the certificate made for the control API does not verify with its own key')
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert, fingerprint: parsed.fingerprint256 }
}

/** The DER certificate: tbsCertificate, signature algorithm, ECDSA signature (DER, in a BIT STRING). */
export function certificateDer (privateKey: KeyObject, publicKey: KeyObject, opts: CertOptions): Buffer {
  const now = opts.now ?? new Date()
  const notBefore = new Date(now.getTime() - 3600_000) // an hour of slack for clocks behind ours
  const notAfter = new Date(now.getTime() + (opts.days ?? 3650) * 86_400_000)
  const names = [...new Set(opts.names.filter(n => n !== ''))]
  const serial = randomBytes(16)
  serial[0] = (serial[0]! & 0x7f) | 0x01 // positive, never zero, 16 bytes
  const algorithm = seq(oid(ECDSA_SHA256))
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  const keyId = createHash('sha1').update(spki).digest()
  const extensions = [
    extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([7, 0x80]))), // keyUsage: digitalSignature (7 unused bits)
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.14', false, octets(keyId)), // subjectKeyIdentifier
    ...(names.length ? [extension('2.5.29.17', false, subjectAltName(names))] : []),
  ]
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))), // v3
    uint(serial),
    algorithm,
    name(opts.commonName),
    seq(time(notBefore), time(notAfter)),
    name(opts.commonName),
    spki,
    explicit(3, seq(...extensions)),
  )
  const signature = sign('sha256', tbs, privateKey) // DER ECDSA-Sig-Value
  return seq(tbs, algorithm, bits(signature))
}
