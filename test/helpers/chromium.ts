// Headless Chromium for the dashboard tests: Debian's package (no browser is downloaded), driven
// by playwright-core. Where it is missing the tests skip with one line, except in CI (MONK_CI),
// where .ci/run installs it and a missing browser is a failure.
import { existsSync } from 'node:fs'

export const CHROMIUM = process.env['MONK_CHROMIUM'] ?? '/usr/bin/chromium'

/** The browser's path, or undefined after printing why `what` is skipped; throws in CI. */
export function chromiumOrSkip (what: string): string | undefined {
  if (existsSync(CHROMIUM)) return CHROMIUM
  if (process.env['MONK_CI'] === '1') throw new Error(`${CHROMIUM} is missing but MONK_CI is set: .ci/run installs Debian's chromium for the dashboard tests`)
  console.log(`  skipped ${what}: no Chromium at ${CHROMIUM} (apt-get install chromium, or set MONK_CHROMIUM)`)
  return undefined
}
