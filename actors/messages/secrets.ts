// Messages of the secrets handler: values go in sealed (actors/secrets.ts) and never come back out.
import * as v from 'valibot'
import { keyName, message, text } from './fields.js'

const scope = keyName(text(1, 512), 'a secret scope like ns/app')
const name = keyName(text(1, 256), 'a secret name')

export const secretRequests = {
  'secrets.add': message('secrets.add', { scope, name, value: text(0, 1 << 20) }),
  'secrets.rm': message('secrets.rm', { scope, name }),
  'secrets.list': message('secrets.list', { scope: v.optional(scope) }),
} as const

export type SecretsRequest = v.InferOutput<typeof secretRequests[keyof typeof secretRequests]>

export interface SecretRef { scope: string, name: string }

export interface SecretsReplies {
  'secrets.add': SecretRef
  'secrets.rm': SecretRef
  'secrets.list': SecretRef[]
}
