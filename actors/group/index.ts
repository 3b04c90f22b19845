// The group actors in one import: spawn and ask them, and the pure order and status functions.
export { GroupActors, groupMembers, isGroupKind, type GroupDeps } from './actor.js'
export { aggregate, startOrder, type MemberDecl } from './status.js'
export { mergeMembers } from './logs.js'
