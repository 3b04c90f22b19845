// Shell-like splitting of entrypoint/cmd strings.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ShellWordsError, shellWords } from '../../../actors/runtime/shell-words.js'

const words = suite('shell-words')
const cases: Array<[string, string, string[]]> = [
  ['plain', 'a b  c', ['a', 'b', 'c']],
  ['empty', '   ', []],
  ['single quotes keep everything', `'a "b" \\c'`, ['a "b" \\c']],
  ['double quotes escape only \\ " $ `', `"a \\"b\\" \\$x \\n"`, ['a "b" $x \\n']],
  ['backslash outside quotes', 'a\\ b c', ['a b', 'c']],
  ['adjacent parts join', `x'y'"z"`, ['xyz']],
  ['empty quoted word', `a '' b`, ['a', '', 'b']],
  ['newlines separate', 'a\nb\tc', ['a', 'b', 'c']],
  ['no expansion', '$HOME *.txt ~', ['$HOME', '*.txt', '~']]
]
for (const [name, input, want] of cases) words(name, () => { assert.equal(shellWords(input), want) })
words('unclosed quotes throw', () => {
  assert.throws(() => shellWords(`a 'b`), (e: unknown) => e instanceof ShellWordsError)
  assert.throws(() => shellWords('a "b'), (e: unknown) => e instanceof ShellWordsError)
})
words.run()
