// Error kinds of the cloud drivers and the node actor: one class per kind, each with a stable
// `code`. Messages name the provider, the operation and the machine, and carry the provider's own
// message; they never carry a credential (every provider message goes through `redact` first).

/** What a provider call can fail with; `retryable` says whether trying again may help. */
export type ProviderErrorCode =
  | 'quota' // the account's limit is reached (instances, vCPUs, droplets)
  | 'bad-region' // unknown or unavailable region or zone
  | 'bad-credentials' // the provider refused the credentials
  | 'not-found' // the machine (or image, key pair) does not exist
  | 'invalid-spec' // the provider rejected a parameter (instance type, image, disk size)
  | 'unavailable' // 5xx, throttling, connection refused, timeout: transient
  | 'failed' // anything else the provider said

const retryableCodes: ReadonlySet<ProviderErrorCode> = new Set(['unavailable'])

/** A provider API call failed. The message is safe to show and to replicate. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError'
  readonly code: ProviderErrorCode
  readonly provider: string
  readonly operation: string
  /** The provider's own error code (`InstanceLimitExceeded`, `QUOTA_EXCEEDED`, HTTP status), for logs. */
  readonly providerCode: string
  readonly retryable: boolean
  constructor (o: { code: ProviderErrorCode, provider: string, operation: string, providerCode: string, message: string }) {
    // The SDK's error object is not kept as `cause`: SDK errors carry request configs and headers
    // (an Authorization header, a signed URL) that a logger would serialise.
    super(o.message)
    this.code = o.code
    this.provider = o.provider
    this.operation = o.operation
    this.providerCode = o.providerCode
    this.retryable = retryableCodes.has(o.code)
  }
}

/** Provider credentials are missing, malformed, or cannot be opened on this peer. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError'
  readonly code: 'no-credentials' | 'bad-credentials-input' | 'credentials-sealed-elsewhere' | 'credentials-corrupt'
  constructor (code: CredentialsError['code'], message: string) {
    super(message)
    this.code = code
  }
}

/** A grow, shrink or peer-remove request that cannot be carried out as asked. */
export class GrowError extends Error {
  override readonly name = 'GrowError'
  readonly code: 'bad-grow' | 'node-exists' | 'no-such-node' | 'not-grown' | 'unknown-provider' | 'node-busy'
  constructor (code: GrowError['code'], message: string) {
    super(message)
    this.code = code
  }
}

/** A user-data document that is not a monk bootstrap (the emulators and tests read it back). */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError'
  readonly code = 'bad-bootstrap'
}

/** Replaces every occurrence of each secret (and of its base64 forms) in `text` with `***`. */
export function redact (text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) {
    if (s.length < 4) continue
    for (const form of [s, Buffer.from(s).toString('base64'), Buffer.from(s).toString('base64url'), JSON.stringify(s).slice(1, -1)]) {
      if (form.length >= 4) out = out.split(form).join('***')
    }
  }
  return out
}

/** At most `max` characters of a provider message (they can be whole HTML pages). */
export function clip (text: string, max = 500): string {
  const t = text.replace(/\s+/g, ' ').trim()
  return t.length > max ? t.slice(0, max - 1) + '…' : t
}
