// Cloud credential chains, read on the operator's machine for `monk cluster provider add` and sent
// to the local monkd over its 0600 socket (which seals them). Loaded only by that command: the
// SDKs it touches are heavy. Credentials are never taken as a command-line value (that would show
// in `ps`) and never printed.
import { readFile } from 'node:fs/promises'
import { CliError, exitCodes } from '../output.js'

/** Endpoint overrides read from the environment (emulators, private API endpoints). */
export const endpointEnv: Readonly<Record<string, string>> = { aws: 'MONK_AWS_ENDPOINT', gcp: 'MONK_GCP_ENDPOINT', digitalocean: 'MONK_DIGITALOCEAN_ENDPOINT' }

/** Reads the credentials of `kind` from the SDK's standard sources. Never logs or prints them. */
export async function readCredentials (kind: string, o: { profile?: string, file?: string, tokenFile?: string }): Promise<Record<string, string>> {
  switch (kind) {
    case 'aws': {
      // the SDK's own default chain: env, shared config and credentials files (profile), SSO, process, IMDS
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true' // a notice about future SDK releases, not this one
      const { EC2Client } = await import('@aws-sdk/client-ec2')
      const client = new EC2Client({ region: process.env.AWS_REGION ?? 'us-east-1', ...(o.profile ? { profile: o.profile } : {}) })
      try {
        const c = await client.config.credentials()
        return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) }
      } catch (err) {
        throw new CliError('no-credentials', `no AWS credentials found${o.profile ? ` in profile ${o.profile}` : ''} (looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials and ~/.aws/config): ${(err as Error).name}`)
      } finally { client.destroy() }
    }
    case 'gcp': {
      const file = o.file ?? process.env.GOOGLE_APPLICATION_CREDENTIALS
      if (!file) throw new CliError('no-credentials', 'give the service account key file: monk cluster provider add gcp -f key.json (or set GOOGLE_APPLICATION_CREDENTIALS)', exitCodes.usage)
      try { return { serviceAccount: await readFile(file, 'utf8') } } catch (err) { throw new CliError('no-credentials', `cannot read the service account key ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`) }
    }
    case 'digitalocean': {
      if (o.tokenFile) {
        try { return { token: (await readFile(o.tokenFile, 'utf8')).trim() } } catch (err) { throw new CliError('no-credentials', `cannot read the token file ${o.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`) }
      }
      const env = process.env.DIGITALOCEAN_TOKEN ?? process.env.DIGITALOCEAN_ACCESS_TOKEN
      if (env) return { token: env.trim() }
      if (!process.stdin.isTTY) {
        const chunks: Buffer[] = []
        for await (const c of process.stdin) chunks.push(c as Buffer)
        const t = Buffer.concat(chunks).toString('utf8').trim()
        if (t) return { token: t }
      }
      throw new CliError('no-credentials', 'no DigitalOcean token: set DIGITALOCEAN_TOKEN (or DIGITALOCEAN_ACCESS_TOKEN), pass --token-file FILE, or pipe it on stdin', exitCodes.usage)
    }
    case 'local': return {}
    default: throw new CliError('bad-flag', `unknown provider "${kind}": aws, gcp, digitalocean or local`, exitCodes.usage)
  }
}
