import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { progress } from '../../../cli/format/spinner.js'

/** A fake stream that records what is written. */
function sink (isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY, columns: 40, write (chunk: string) { s.text += chunk; return true } }
  return s as unknown as NodeJS.WriteStream & { text: string }
}

const Spinner = suite('format/spinner')

Spinner('disabled (-q, --output json): prints nothing', () => {
  const out = sink(true)
  const p = progress({ stream: out, enabled: false })
  p.update('waiting for x')
  p.done('finished')
  assert.is(out.text, '')
})

Spinner('pipe: nothing in the first second, then one line per change', () => {
  const out = sink(false)
  let now = 0
  const p = progress({ stream: out, enabled: true, now: () => now })
  p.update('ns/a: starting')
  assert.is(out.text, '')
  now = 1500
  p.update('ns/a: starting')
  p.update('ns/a: starting')
  p.update('ns/a: waiting for readiness')
  p.done('done')
  assert.is(out.text, '… ns/a: starting\n… ns/a: waiting for readiness\ndone\n')
})

Spinner('pipe: what it waits for at the one-second mark is printed even if nothing changes after', () => {
  const out = sink(false)
  let flush: (() => void) | undefined
  const p = progress({ stream: out, enabled: true, now: () => 0, after: fn => { flush = fn; return () => { flush = undefined } } })
  p.update('ns/front: waiting for depends ns/db')
  assert.is(out.text, '')
  flush?.()
  assert.is(out.text, '… ns/front: waiting for depends ns/db\n')
  p.done()
  assert.is(flush, undefined, 'done cancels the flush')
})

Spinner('terminal: frames name what we wait for, clipped to the width, cleared at the end', async () => {
  const out = sink(true)
  let now = 0
  const p = progress({ stream: out, enabled: true, now: () => now })
  p.update('waiting for monkd to answer on /a/very/long/path/that/does/not/fit/monkd.sock')
  now = 5000
  const until = Date.now() + 5000
  while (!out.text.includes('waiting') && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 20))
  p.done()
  assert.match(out.text, /\r\u001b\[2K⠋ waiting for monkd/)
  assert.ok(out.text.includes('…'), 'long text is clipped')
  assert.ok(out.text.endsWith('\r\u001b[2K'), 'the line is cleared')
})

Spinner.run()
