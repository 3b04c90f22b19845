// Split a command line into words the way a POSIX shell would (quotes and backslashes), without
// expanding anything: used for `entrypoint` and string `cmd` fields.

export class ShellWordsError extends Error {
  override name = 'ShellWordsError'
}

/** `a "b c" 'd e' f\ g` → [`a`, `b c`, `d e`, `f g`]. Throws ShellWordsError on an unclosed quote. */
export function shellWords (line: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let i = 0
  while (i < line.length) {
    const ch = line[i] as string
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) { words.push(word); word = ''; inWord = false }
      i++
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) throw new ShellWordsError(`unclosed single quote at column ${i + 1}`)
      word += line.slice(i + 1, end)
      inWord = true
      i = end + 1
    } else if (ch === '"') {
      i++
      inWord = true
      let closed = false
      while (i < line.length) {
        const c = line[i] as string
        if (c === '"') { closed = true; i++; break }
        // Inside double quotes a backslash escapes only these characters.
        if (c === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1] as string)) {
          if (line[i + 1] !== '\n') word += line[i + 1]
          i += 2
        } else { word += c; i++ }
      }
      if (!closed) throw new ShellWordsError('unclosed double quote')
    } else if (ch === '\\') {
      if (i + 1 < line.length) {
        if (line[i + 1] !== '\n') { word += line[i + 1]; inWord = true }
        i += 2
      } else { i++ }
    } else {
      word += ch
      inWord = true
      i++
    }
  }
  if (inWord) words.push(word)
  return words
}
