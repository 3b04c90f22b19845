// Bootstrap user data: the cloud-config and the startup script carry the same monkd unit, and
// readBootstrap() reads either back; bad names and tags never reach a shell or a unit file.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse } from 'yaml'
import { bootstrap, JOIN_FILE, monkdArgs, readBootstrap, TOKEN_DROP_PATH, UNIT_PATH } from '../../../actors/cloud/bootstrap.js'
import { BootstrapError } from '../../../actors/cloud/errors.js'
import { autoTags } from '../../../actors/cloud/provider.js'

const input = { name: 'web-1', tags: ['frontend', 'aws', 'eu-west-1', 'eu-west-1a', 'team:a/b'], join: 'AbC_dEf-123' }
const test = suite('cloud: bootstrap')

test('cloud-config: valid YAML with the unit, an install script and runcmd', () => {
  const b = bootstrap(input)
  assert.ok(b.cloudConfig.startsWith('#cloud-config\n'))
  const doc = parse(b.cloudConfig) as { write_files: Array<{ path: string, content: string, permissions: string }>, runcmd: unknown[] }
  const unit = doc.write_files.find(f => f.path === UNIT_PATH)
  assert.ok(unit)
  assert.is(unit.permissions, '0600', 'the unit is root only')
  assert.match(unit.content, /^ExecStart=\/usr\/local\/bin\/monkd --home \/var\/lib\/monkd --name web-1 --p2p-port 44001 --tag frontend/m)
  assert.match(unit.content, /WantedBy=multi-user.target/)
  const install = doc.write_files.find(f => f.path !== UNIT_PATH)
  assert.match(install?.content ?? '', /nodejs\.org\/dist\/v20\.20\.2/)
  assert.match(install?.content ?? '', /npm" install -g --prefix \/opt\/monk monk@0\.1\.0/)
  assert.match(install?.content ?? '', /systemctl enable --now monkd.service/)
  assert.equal(doc.runcmd.length, 1)
})

test('both forms read back to the same command line', () => {
  const b = bootstrap(input)
  for (const text of [b.cloudConfig, b.script]) {
    const r = readBootstrap(text)
    assert.is(r.name, 'web-1')
    assert.is(r.join, 'AbC_dEf-123')
    assert.equal(r.tags, input.tags)
    assert.is(r.p2pPort, 44001)
    assert.equal(r.args, b.args)
  }
})

test('the startup script is a bash script that writes the unit and installs', () => {
  const b = bootstrap({ ...input, package: 'https://example.test/monk-0.1.0.tgz', nodeVersion: '22.1.0' })
  assert.ok(b.script.startsWith('#!/bin/bash\n'))
  assert.match(b.script, /cat > \/etc\/systemd\/system\/monkd.service <<'MONK_UNIT_EOF'/)
  assert.match(b.script, /install -g --prefix \/opt\/monk https:\/\/example.test\/monk-0.1.0.tgz/)
  assert.match(b.script, /node-v22\.1\.0-linux/)
})

test('names, tags, tokens and packages that could break out of the unit or the shell are refused', () => {
  const bad = [
    { ...input, name: 'Web 1' }, { ...input, name: 'web;rm' }, { ...input, tags: ['a b'] }, { ...input, tags: ['$(id)'] },
    { ...input, tags: ['a"b'] }, { ...input, tags: ['%i'] }, { ...input, join: 'abc def' }, { ...input, package: 'x; curl evil' },
  ]
  for (const b of bad) assert.throws(() => bootstrap(b), (e: unknown) => e instanceof BootstrapError && e.code === 'bad-bootstrap', JSON.stringify(b))
})

test('readBootstrap refuses what is not ours', () => {
  for (const t of ['', '#cloud-config\nruncmd: [ls]\n', '#!/bin/sh\necho hi\n', 'hello', '#cloud-config\n: : :\n  - [']) {
    assert.throws(() => readBootstrap(t), (e: unknown) => e instanceof BootstrapError)
  }
})

test('the token is in no command line: monkd reads it from a 0600 file the install moves into its home', () => {
  const a = monkdArgs(input)
  assert.equal(a.slice(-2), ['--join-file', JOIN_FILE])
  assert.not.ok(a.includes(input.join))
  const b = bootstrap(input)
  const doc = parse(b.cloudConfig) as { write_files: Array<{ path: string, content: string, permissions: string, owner: string }> }
  const drop = doc.write_files.find(f => f.path === TOKEN_DROP_PATH)
  assert.ok(drop)
  assert.is(drop.permissions, '0600')
  assert.is(drop.owner, 'root:root')
  assert.is(drop.content.trim(), input.join)
  for (const f of doc.write_files.filter(f => f.path !== TOKEN_DROP_PATH)) assert.not.ok(f.content.includes(input.join), `${f.path} holds no token`)
  for (const text of [b.cloudConfig, b.script]) assert.match(text, new RegExp(`install -o monkd -g monkd -m 0600 ${TOKEN_DROP_PATH} ${JOIN_FILE} && rm -f ${TOKEN_DROP_PATH}`))
  // the startup script writes the token with a shell builtin under umask 077, and only before the machine joined
  assert.match(b.script, new RegExp(`umask 077[\\s\\S]*if \\[ ! -d /var/lib/monkd/data \\]; then mkdir -p /etc/monk && echo ${input.join} > ${TOKEN_DROP_PATH}; fi`))
  const unitLine = b.script.split('\n').find(l => l.startsWith('ExecStart='))!
  assert.not.ok(unitLine.includes(input.join))
})

test('automatic tags: provider, region, zone once each', () => {
  assert.equal(autoTags('aws', { region: 'eu-west-1', zone: 'eu-west-1a' }), ['aws', 'eu-west-1', 'eu-west-1a'])
  assert.equal(autoTags('digitalocean', { region: 'nyc3', zone: null }), ['digitalocean', 'nyc3'])
  assert.equal(autoTags('local', { region: 'local', zone: null }), ['local'])
})

test.run()
