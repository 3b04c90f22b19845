// The child process of one hub sync (job.ts): it receives the job, fetches, compiles and sends back
// the encoded records, then exits. It never touches the replica; monkd writes what it sends.
import { compileSource } from './compile.js'
import { fetchSource } from './git.js'
import type { JobMessage, SyncJob } from './job.js'
import { encodeKit } from './records.js'

const post = (m: JobMessage): Promise<void> => new Promise(resolve => {
  // monkd gone (its channel closed): nobody to answer, just stop
  if (!process.connected) process.exit(0)
  process.send!(m, undefined, {}, () => { resolve() })
})

async function run (job: SyncJob): Promise<void> {
  try {
    const started = Date.now()
    const commit = await fetchSource(job.url, job.ref, job.dir, job.limits)
    await post({ stage: 'fetched' })
    const fetched = Date.now()
    const c = compileSource(job.source, job.dir, commit, new Map(job.previous), job.now, job.limits.maxRecordBytes)
    await post({
      stage: 'done',
      result: { commit, write: c.write.map(k => ({ path: k.def.path, value: encodeKit(k) })), remove: c.remove, broken: c.broken, kits: c.kits, templates: c.templates, fetchMs: fetched - started, compileMs: Date.now() - fetched },
    })
  } catch (err) {
    await post({ stage: 'failed', error: (err as Error).message })
  }
  process.disconnect()
}

process.once('message', (job: SyncJob) => { void run(job) })
process.once('disconnect', () => { process.exit(0) })
