// Every operator of spec §3.4 (aliases included), in call form and postfix form where both apply:
// both forms must give the same value (`x op(a, b)` ≡ `x a b op`).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

import { operatorNames } from '../../../grammar/arrow/index.js'
import { ev, evError, testContext } from '../../helpers/arrow-eval.js'

type Expect = unknown | { error: string }
/** [operator, call form or null, postfix form or null, expected value or {error: code}] */
type Row = [string, string | null, string | null, Expect]

const rows: Row[] = [
  // Strings
  ['concat', '"a" concat("b")', '"a" "b" concat', 'ab'],
  ['concat', '5 concat(":x")', '5 ":x" concat', '5:x'],
  ['concat-all', 'concat-all("a", 1, "b")', '"a" 1 "b" concat-all', 'a1b'],
  ['concat-all', '"keep" concat-all("a", "b") concat', '"keep" mark "a" "b" concat-all concat', 'keepab'],
  ['trim', 'trim("  a \\n")', '"  a \\n" trim', 'a'],
  ['trim', 'trim(5)', '5 trim', { error: 'type' }],
  ['split', '"a,b,,c" split(",")', '"a,b,,c" "," split', ['a', 'b', '', 'c']],
  ['split', 'nil split(",")', 'nil "," split', { error: 'type' }],
  ['join', '["a", 1, nil] join("-")', '["a", 1, nil] "-" join', 'a-1-'],
  ['replace', '"a.b.c" replace(".", "/")', '"a.b.c" "." "/" replace', 'a/b/c'],
  ['replace', '"abc" replace("", "x")', '"abc" "" "x" replace', { error: 'bad-argument' }],
  // Variables
  ['var', 'var("host")', '"host" var', 'db.local'],
  ['var', 'var("nope")', '"nope" var', null],
  ['set', '9 set("foo") $foo add', '9 "foo" set $foo add', 18],
  ['set-tmp', '9 set-tmp("t") $t add', '9 "t" set-tmp $t add', 18],
  ['unset', '1 set-tmp("t") unset("t") $t', '1 set-tmp("t") "t" unset $t', null],
  ['default', '$missing default("d")', '$missing "d" default', 'd'],
  ['default', '$empty-str default("d")', '$empty-str "d" default', 'd'],
  ['default', '$host default("d")', '$host "d" default', 'db.local'],
  ['default', '0 default(1)', '0 1 default', 0],
  ['default', 'false default(1)', 'false 1 default', false],
  ['secret', 'secret("pw")', '"pw" secret', 'secret:pw'],
  ['secret-get', 'secret-get("pw")', '"pw" secret-get', 'secret:pw'],
  // Control / logic / comparison
  ['and', 'true and(false)', 'true false and', false],
  ['and', 'true and(1)', 'true 1 and', true],
  ['or', 'nil or("b")', 'nil "b" or', 'b'],
  ['or', '"a" or("b")', '"a" "b" or', 'a'],
  ['or', 'false or(nil)', 'false nil or', null],
  ['xor', 'true xor(true)', 'true true xor', false],
  ['xor', 'true xor(nil)', 'true nil xor', true],
  ['not', 'not(true)', 'true not', false],
  ['not', 'not(nil)', 'nil not', true],
  ['then', 'true then("x")', 'true "x" then', 'x'],
  ['then', 'nil then("x")', 'nil "x" then', null],
  ['eq?', '1 eq?(1.0)', '1 1.0 eq?', true],
  ['eq?', '"1" eq?(1)', '"1" 1 eq?', false],
  ['eq?', '[1, {"a": 2}] eq?([1, {"a": 2}])', '[1, {"a": 2}] [1, {"a": 2}] eq?', true],
  ['eq?', '1 eq?(1n)', '1 1n eq?', true],
  ['equal?', '"a" equal?("a")', '"a" "a" equal?', true],
  ['not-eq?', '"a" not-eq?("")', '"a" "" not-eq?', true],
  ['not-eq?', 'nil not-eq?(nil)', 'nil nil not-eq?', false],
  ['not-equal?', '1 not-equal?(2)', '1 2 not-equal?', true],
  ['contains?', '"abc" contains?("b")', '"abc" "b" contains?', true],
  ['contains?', '[1, 2] contains?(2)', '[1, 2] 2 contains?', true],
  ['contains?', '{"a": 1} contains?("a")', '{"a": 1} "a" contains?', true],
  ['contains?', 'nil contains?("a")', 'nil "a" contains?', false],
  ['contains?', '5 contains?(1)', '5 1 contains?', { error: 'type' }],
  ['has?', '"abc" has?("z")', '"abc" "z" has?', false],
  ['nil?', 'nil?(nil)', 'nil nil?', true],
  ['nil?', 'nil?(0)', '0 nil?', false],
  ['if-error', 'secret("fail") if-error("fb")', 'secret("fail") "fb" if-error', 'fb'],
  ['if-error', '"ok" if-error("fb")', '"ok" "fb" if-error', 'ok'],
  ['cmp', '7 cmp(2)', '7 2 cmp', false],
  ['cmp', '2 cmp(2.0)', '2 2.0 cmp', true],
  ['cmp', '"a" cmp(1)', '"a" 1 cmp', { error: 'type' }],
  // Math / numbers / types
  ['add', '1 add(2)', '1 2 add', 3],
  ['add', '1.5 add(2)', '1.5 2 add', 3.5],
  ['add', '1n add(2)', '1n 2 add', 3n],
  ['add', '9007199254740991 add(1)', '9007199254740991 1 add', 9007199254740992n],
  ['add', '"1" add(2)', '"1" 2 add', { error: 'type' }],
  ['sub', '5 sub(7)', '5 7 sub', -2],
  ['sub', '5n sub(7)', '5n 7 sub', -2n],
  ['mult', '3 mult(4)', '3 4 mult', 12],
  ['mult', '4294967296 mult(4294967296)', '4294967296 4294967296 mult', 18446744073709551616n],
  ['div', '1 div(2)', '1 2 div', 0.5],
  ['div', '6 div(3)', '6 3 div', 2],
  ['div', '6n div(3)', '6n 3 div', 2n],
  ['div', '7n div(2n)', '7n 2n div', 3.5],
  ['div', '1 div(0)', '1 0 div', { error: 'division-by-zero' }],
  ['to-hex', '255 to-hex(true)', '255 true to-hex', '0xff'],
  ['to-hex', 'to-hex(255)', '255 to-hex', 'ff'],
  ['to-hex', '-255 to-hex(true)', '-255 true to-hex', '-0xff'],
  ['to-hex', '1.5 to-hex(false)', '1.5 false to-hex', { error: 'type' }],
  ['to-int', 'to-int("99")', '"99" to-int', 99],
  ['to-int', 'to-int("3.7")', '"3.7" to-int', 3],
  ['to-int', 'to-int("0x1f")', '"0x1f" to-int', 31],
  ['to-int', 'to-int("9007199254740993")', '"9007199254740993" to-int', 9007199254740993n],
  ['to-int', 'to-int("99999999999999999999")', '"99999999999999999999" to-int', { error: 'bad-number' }],
  ['to-int', 'to-int("abc")', '"abc" to-int', { error: 'bad-number' }],
  ['to-int', 'to-int(nil)', 'nil to-int', { error: 'type' }],
  ['to-i', 'to-i(true)', 'true to-i', 1],
  ['to-i', 'to-i(-2.9)', '-2.9 to-i', -2],
  ['to-float', 'to-float("1.5")', '"1.5" to-float', 1.5],
  ['to-float', 'to-float("x")', '"x" to-float', { error: 'bad-number' }],
  ['to-f', 'to-f(2n)', '2n to-f', 2],
  ['to-bigint', 'to-bigint("123")', '"123" to-bigint', 123n],
  ['to-bi', 'to-bi(88)', '88 to-bi', 88n],
  ['to-bi', 'to-bi("12n")', '"12n" to-bi', 12n],
  ['to-string', 'to-string([1, "a", nil, {"k": true}])', '[1, "a", nil, {"k": true}] to-string', '[1,"a",null,{"k":true}]'],
  ['to-string', 'to-string(nil)', 'nil to-string', ''],
  ['to-s', 'to-s(1.5)', '1.5 to-s', '1.5'],
  ['to-s', 'to-s(12n)', '12n to-s', '12'],
  // Collections / JSON / internals
  ['get-member', '{"a": 1} get-member("a")', '{"a": 1} "a" get-member', 1],
  ['get-member', '{"a": 1} get-member("b")', '{"a": 1} "b" get-member', null],
  ['get-member', '{} get-member("constructor")', '{} "constructor" get-member', null],
  ['get-member', '[10, 20] get-member(1)', '[10, 20] 1 get-member', 20],
  ['get-member', 'nil get-member("a")', 'nil "a" get-member', null],
  ['get-member', '"s" get-member("a")', '"s" "a" get-member', { error: 'type' }],
  ['first', 'first([1, 2, 3])', '[1, 2, 3] first', 1],
  ['first', 'first([])', '[] first', null],
  ['last', 'last([1, 2, 3])', '[1, 2, 3] last', 3],
  ['array', 'array()', 'array', []],
  ['object', 'object()', 'object', {}],
  ['append', '[1] append(2)', '[1] 2 append', [1, 2]],
  ['append', '[1] set-tmp("a") append(2) $a', '[1] set-tmp("a") 2 append $a', [1]],
  ['assoc', '{"a": 1} assoc("k", 2)', '{"a": 1} "k" 2 assoc', { a: 1, k: 2 }],
  ['assoc', '{} assoc("__proto__", 1) get-member("__proto__")', '{} "__proto__" 1 assoc "__proto__" get-member', 1],
  ['dup', 'dup(3) add', '3 dup add', 6],
  ['const', 'const(5)', '5 const', 5],
  ['mark', 'mark() "a" concat-all', 'mark "a" concat-all', 'a'],
  ['call', 'call("add", [1, 2])', '"add" [1, 2] call', 3],
  ['call', 'call("concat-all", ["a", "b"])', '"concat-all" ["a", "b"] call', 'ab'],
  ['call', 'call("nope", [])', '"nope" [] call', { error: 'unknown-operator' }],
  ['callf', '1 callf(<-{ 1 add })', '1 <-{ 1 add } callf', 2],
  ['callf', 'callf(5)', '5 callf', { error: 'type' }],
  ['map', '[1, 2, 3] map(<-{ 1 add })', '[1, 2, 3] <-{ 1 add } map', [2, 3, 4]],
  ['map', '[] map(<-{ 1 add })', '[] <-{ 1 add } map', []],
  ['filter', '[1, nil, 2] filter(<-{ nil? not })', '[1, nil, 2] <-{ nil? not } filter', [1, 2]],
  ['parse-json', 'parse-json("{\\"a\\": [1, 2.5, null]}")', '"{\\"a\\": [1, 2.5, null]}" parse-json', { a: [1, 2.5, null] }],
  ['parse-json', 'parse-json("{")', '"{" parse-json', { error: 'bad-json' }],
  ['to-json', 'to-json({"a": [1, nil, 3n]})', '{"a": [1, nil, 3n]} to-json', '{"a":[1,null,3]}'],
  ['to-json', 'to-json(<-{})', '<- <-{} to-json', { error: 'bad-json' }],
  ['random-uuid', 'random-uuid()', 'random-uuid', 'uuid-1'],
  // HTTP / RPC
  ['http-get', 'http-get("http://x")', '"http://x" http-get', 'GET http://x'],
  ['http-get', 'http-get("http://x", {"headers": {"a": "b"}})', '"http://x" {"headers": {"a": "b"}} http-get', 'GET http://x {"headers":{"a":"b"}}'],
  ['http-get', 'http-get("http://down") nil?', '"http://down" http-get nil?', true],
  ['http-post', '"body" http-post("http://x")', '"body" "http://x" http-post', 'POST http://x body'],
  ['http-post', '"b" http-post("http://x", {"h": 1})', '"b" "http://x" {"h": 1} http-post', 'POST http://x b {"h":1}'],
  ['http-get-service', 'http-get-service("ns/r", "api", "/health") get-member("status")', '"ns/r" "api" "/health" http-get-service "status" get-member', 200],
  ['rpc-call', '"http://rpc" rpc-call("sum", 1, 2)', '"http://rpc" "sum" 1 2 rpc-call', { url: 'http://rpc', method: 'sum', args: [1, 2] }],
  // Actions
  ['act', 'act("ns/r/a", "k", 1)', '"ns/r/a" "k" 1 act', { path: 'ns/r/a', args: { k: 1 } }],
  ['act', 'act("ns/r/a", "k")', '"ns/r/a" "k" act', { error: 'bad-argument' }],
  ['wait-for', 'wait-for(10, 3, "ns/r/a", "k", 1)', '10 3 "ns/r/a" "k" 1 wait-for', { path: 'ns/r/a', args: { k: 1 } }],
  ['wait-for', 'wait-for(10, 3, "ns/r/fail")', '10 3 "ns/r/fail" wait-for', { error: 'wait-for-timeout' }],
  // Containers
  ['exec', 'exec("c", "sh", "-c", "echo 1")', '"c" "sh" "-c" "echo 1" exec', 'c sh -c echo 1'],
  ['exec', 'exec("c", "fail")', '"c" "fail" exec', { error: 'host-error' }],
  ['container-name', 'container-name("web")', '"web" container-name', 'ctr-web'],
  ['container-domain-name', 'container-domain-name("ns/r", "web")', '"ns/r" "web" container-domain-name', 'ctr-ns-r-web'],
  // Network / discovery / cluster
  ['get-hostname', 'get-hostname("ns/r", "db") split(".dns.podman") join("")', '"ns/r" "db" get-hostname ".dns.podman" split "" join', 'db.ns-r'],
  ['get-container-ip', 'get-container-ip("ns/r", "db")', '"ns/r" "db" get-container-ip', 'db.ns-r.dns.podman'],
  ['peer-ip-address', 'peer-ip-address("ns/r")', '"ns/r" peer-ip-address', '10.0.0.2'],
  ['ip-address-public', 'ip-address-public()', 'ip-address-public', '203.0.113.1'],
  ['local-ip', 'local-ip() concat(":8080")', 'local-ip ":8080" concat', '192.168.1.2:8080'],
  ['connection-hostname', 'connection-hostname("db")', '"db" connection-hostname', 'db.local'],
  ['connection-port', 'connection-port("db")', '"db" connection-port', 5432],
  ['connection-ip', 'connection-ip("db")', '"db" connection-ip', '10.1.0.7'],
  ['connection-public-ip', 'connection-public-ip("db")', '"db" connection-public-ip', '198.51.100.7'],
  ['connection-public-port', 'connection-public-port("db")', '"db" connection-public-port', 30080],
  ['connection-domain-name', 'connection-domain-name("api")', '"api" connection-domain-name', 'api.example.net'],
  ['connection-target', 'connection-target("db")', '"db" connection-target', 'target:db'],
  ['connection-user', 'connection-user("db")', '"db" connection-user', 'user:db'],
  ['domain-name', 'domain-name()', 'domain-name', 'app.example.com'],
  ['get-resolver-ip', 'get-resolver-ip()', 'get-resolver-ip', '10.0.0.53'],
  ['ssl-certificate', 'ssl-certificate()', 'ssl-certificate', 'CERT'],
  ['ssl-private-key', 'ssl-private-key()', 'ssl-private-key', 'KEY'],
  ['service-port', 'service-port("ns/r", "api")', '"ns/r" "api" service-port', 8080],
  ['service-public-ip', 'service-public-ip("ns/r", "api")', '"ns/r" "api" service-public-ip', '198.51.100.1'],
  ['runnable-peers', 'runnable-peers("ns/r")', '"ns/r" runnable-peers', ['peer-1', 'peer-2']],
  ['runnable-peers-public-ips', 'runnable-peers-public-ips("ns/r") first', '"ns/r" runnable-peers-public-ips first', '203.0.113.1/32'],
  ['provider', 'provider("gcp") get-member("project")', '"gcp" provider "project" get-member', 'proj-1'],
  ['metric', '1.0 metric("current-replicas") add', '1.0 "current-replicas" metric add', 4],
  // Entities
  ['entity', 'entity("ns/x") get-member("of")', '"ns/x" entity "of" get-member', 'ns/x'],
  ['entity', 'connection-target("p") entity get-member("of")', 'connection-target("p") entity "of" get-member', 'target:p'],
  ['get-entity', 'get-entity("ns/x") get-member("part")', '"ns/x" get-entity "part" get-member', 'definition'],
  ['entity-state', 'entity-state("ns/x") get-member("id")', '"ns/x" entity-state "id" get-member', 'id-ns/x'],
  ['entity-state', 'connection-target("p") entity-state() get-member("id")', 'connection-target("p") entity-state "id" get-member', 'id-target:p'],
  ['entity-state', null, 'entity-state get-member("address")', 'addr.example'],
]

const Ops = suite('arrow operators: call and postfix forms')

for (const [op, call, postfix, expect] of rows) {
  for (const [form, src] of [['call', call], ['postfix', postfix]] as const) {
    if (src === null) continue
    Ops(`${op} (${form}): ${src}`, async () => {
      if (typeof expect === 'object' && expect !== null && !Array.isArray(expect) && 'error' in expect) {
        const e = await evError(src)
        assert.is(e.code, (expect as { error: string }).error, e.message)
      } else {
        assert.equal(await ev(src), expect)
      }
    })
  }
}

Ops('every operator and alias of the registry has a row in both forms (where both apply)', () => {
  const covered = new Map<string, Set<string>>()
  for (const [op, call, postfix] of rows) {
    const s = covered.get(op) ?? new Set<string>()
    if (call !== null) s.add('call')
    if (postfix !== null) s.add('postfix')
    covered.set(op, s)
  }
  for (const name of operatorNames()) {
    const s = covered.get(name)
    assert.ok(s !== undefined, `operator ${name} has no table row`)
    assert.ok(s.has('postfix') && s.has('call'), `operator ${name} lacks a form: ${[...s].join(',')}`)
  }
})

Ops('host operators pass the arguments to the host as given', async () => {
  const ctx = testContext()
  await ev('"ns/r" "db" get-hostname', ctx)
  await ev('9 set("foo")', ctx)
  await ev('wait-for(250, 3, "ns/r/fail") if-error(nil)', ctx)
  assert.equal(ctx.calls.find(c => c.cap === 'getHostname')?.args, ['ns/r', 'db'])
  assert.equal(ctx.calls.find(c => c.cap === 'setVariable')?.args, ['foo', 9])
  assert.is(ctx.calls.filter(c => c.cap === 'act').length, 3)
  assert.equal(ctx.calls.filter(c => c.cap === 'sleep').map(c => c.args[0]), [250, 250])
})

Ops('random-uuid without an injected source is a v4 UUID', async () => {
  const v = await ev('random-uuid', {})
  assert.match(String(v), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})

Ops.run()
