// The control API's handlers for `group/<path>`: each message to the group actor of that path.
import type { Handlers } from '../messages/index.js'
import type { GroupActors } from './actor.js'

export function groupHandlers (groups: GroupActors): Handlers<'group'> {
  return {
    'group.status': (_m, ctx) => groups.status(ctx.target ?? ''),
    'group.describe': (_m, ctx) => groups.describe(ctx.target ?? ''),
    'group.actions': (_m, ctx) => groups.actions(ctx.target ?? ''),
    'group.action': (m, ctx) => groups.action(ctx.target ?? '', m.action, m.args ?? {}),
    'group.logs': (m, ctx) => groups.logs(ctx.target ?? '', m, ctx.signal),
  }
}
