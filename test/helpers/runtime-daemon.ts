// A stand-in daemon for the killed-daemon test: opens a runtime, creates and starts one container,
// prints `{"id": ...}` and then just lives until the test SIGKILLs it.
// usage: node --import tsx --import ./polyfill.ts test/helpers/runtime-daemon.ts docker|process STATE_DIR SPEC_JSON
import { DockerRuntime } from '../../actors/runtime/docker.js'
import { ProcessRuntime } from '../../actors/runtime/process.js'
import type { ContainerSpec, Runtime } from '../../actors/runtime/runtime.js'

const [kind, stateDir, specJson] = process.argv.slice(2)
if (!kind || !stateDir || !specJson) {
  console.error('usage: runtime-daemon.ts docker|process STATE_DIR SPEC_JSON')
  process.exit(2)
}
const spec = JSON.parse(specJson) as ContainerSpec
const rt: Runtime = kind === 'docker' ? await DockerRuntime.open() : await ProcessRuntime.open({ stateDir })
const { id } = await rt.create(spec)
await rt.start(id)
process.stdout.write(JSON.stringify({ id, pid: process.pid }) + '\n')
setInterval(() => {}, 60_000)
