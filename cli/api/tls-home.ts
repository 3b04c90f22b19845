// monkd's TLS identity for a control listener beyond loopback: made at the first start that needs
// it (cert.ts) and kept in the home, the key 0600, so that clients' pins stay valid across restarts.
// Delete both files to make a new one (clients then refuse it until their pin is removed).
import { X509Certificate } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname, networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { makeSelfSignedCert } from './cert.js'

export interface TlsIdentity {
  readonly key: string
  readonly cert: string
  /** SHA-256 fingerprint of the certificate, `AB:CD:…`. */
  readonly fingerprint: string
  readonly keyFile: string
  readonly certFile: string
  /** True when this call made it. */
  readonly made: boolean
}

export const TLS_KEY_FILE = 'api-tls.key'
export const TLS_CERT_FILE = 'api-tls.crt'

/** The host's names and addresses for the certificate's subjectAltName (plus `extra`, e.g. --api-host). */
export function hostNames (extra: readonly string[] = []): string[] {
  const addrs = Object.values(networkInterfaces()).flatMap(list => (list ?? []).map(a => a.address))
  return [...new Set(['localhost', hostname(), ...extra.filter(h => h !== '0.0.0.0' && h !== '::'), ...addrs])]
}

/** Reads the identity in `home`, or makes and writes one (key 0600) when there is none. */
export function loadOrMakeTlsIdentity (home: string, commonName: string, extraNames: readonly string[] = []): TlsIdentity {
  const keyFile = join(home, TLS_KEY_FILE)
  const certFile = join(home, TLS_CERT_FILE)
  if (existsSync(keyFile) && existsSync(certFile)) {
    const key = readFileSync(keyFile, 'utf8')
    const cert = readFileSync(certFile, 'utf8')
    let parsed: X509Certificate
    try { parsed = new X509Certificate(cert) } catch (e) { throw new Error(`${certFile} is not a certificate (${(e as Error).message}); delete ${certFile} and ${keyFile} to make a new one`) }
    chmodSync(keyFile, 0o600)
    return { key, cert, fingerprint: parsed.fingerprint256, keyFile, certFile, made: false }
  }
  const made = makeSelfSignedCert({ commonName, names: hostNames(extraNames) })
  writeFileSync(keyFile, made.key, { mode: 0o600 })
  chmodSync(keyFile, 0o600)
  writeFileSync(certFile, made.cert, { mode: 0o644 })
  return { ...made, keyFile, certFile, made: true }
}
