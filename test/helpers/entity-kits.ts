// Entity kits written for the tests in the contract's shape (our own code, not the corpus's):
// an HTTP-API item entity with a CommonJS helper module, an S3-style bucket on cloud/aws, and a
// webhook entity. Each is MonkScript YAML plus the JavaScript it embeds with `<<<`.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const ITEM_JS = `// test-api/item lifecycle: a classic script (no exports), host calls block.
var lib = require("test-api/lib");
function headers(def) { return { "Authorization": "Bearer " + secret.get(def.token_secret), "Content-Type": "application/json" }; }
function main(def, state, ctx) {
  var r;
  switch (ctx.action) {
    case "create":
      r = http.post(lib.url(def), { headers: headers(def), body: JSON.stringify({ name: def.name, size: def.size }) });
      if (r.error) throw new Error("create: " + r.error);
      if (r.statusCode !== 201) throw new Error("create failed: " + r.status + " " + r.body);
      cli.output("created item " + JSON.parse(r.body).id);
      return { id: JSON.parse(r.body).id, size: def.size, starts: 0, updates: 0 };
    case "start":
      if (def.start_sleep_ms) sleep(def.start_sleep_ms);
      state.starts = (state.starts || 0) + 1;
      return state;
    case "update":
      r = http.put(lib.url(def, state.id), { headers: headers(def), body: JSON.stringify({ size: def.size }) });
      if (r.statusCode !== 200) throw new Error("update failed: " + r.status);
      state.size = def.size; state.updates = (state.updates || 0) + 1;
      return state;
    case "check-readiness":
    case "check-liveness":
      r = http.get(lib.url(def, state.id), { headers: headers(def) });
      if (r.error) throw new Error(r.error);
      if (r.statusCode !== 200) throw "not ready: " + r.statusCode;
      state.ready = true;
      return state;
    case "resize":
      r = http.put(lib.url(def, state.id), { headers: headers(def), body: JSON.stringify({ size: Number(ctx.args.size) }) });
      if (r.statusCode !== 200) throw new Error("resize failed: " + r.status);
      cli.output("resized to " + ctx.args.size);
      state.size = Number(ctx.args.size);
      return state;
    case "peek":
      r = http.get(lib.url(def, ctx.args.id || state.id), { headers: headers(def) });
      cli.output("status " + r.statusCode + " type " + r.headers["Content-Type"]);
      if (r.error) throw new Error(r.error);
      state.last_status = r.statusCode;
      return state;
    case "fail":
      throw new Error("boom: " + ctx.args.why);
    case "stop":
      state.stops = (state.stops || 0) + 1;
      return state;
    case "purge":
      r = http.delete(lib.url(def, state.id), { headers: headers(def) });
      if (r.statusCode !== 204 && r.statusCode !== 404) throw new Error("purge failed: " + r.status);
      return {};
    default:
      throw new Error("unknown action " + ctx.action);
  }
}
`

export const LIB_JS = `module.exports = { url: function (def, id) { return def.endpoint + "/items" + (id ? "/" + id : ""); } };
`

export const BUCKET_JS = `function main(def, state, ctx) {
  var url = def.endpoint + "/" + def.bucket;
  var r;
  switch (ctx.action) {
    case "create":
      r = aws.put(url, { service: "s3", region: def.region, body: "<CreateBucketConfiguration><LocationConstraint>" + def.region + "</LocationConstraint></CreateBucketConfiguration>" });
      if (r.statusCode !== 200) throw new Error("create bucket: " + r.status + " " + r.body);
      return { bucket: def.bucket, region: def.region, location: r.headers["Location"] };
    case "check-readiness":
      r = aws.get(url + "?list-type=2&prefix=a%20b", { service: "s3", region: def.region });
      if (r.statusCode !== 200) throw new Error("bucket not ready: " + r.status + " " + r.body);
      return;
    case "purge":
      r = aws.delete(url, { service: "s3", region: def.region });
      if (r.statusCode !== 204) throw new Error("delete bucket: " + r.status);
      return {};
  }
}
`

/** The kit's YAML; `endpoint`s point at the fakes. */
export function kitYaml (o: { apiUrl: string, s3Url: string, hookUrl: string, period?: number, attempts?: number, size?: number, startSleepMs?: number, image?: string }): string {
  return `namespace: test-api
lib:
  defines: module
  source: <<< lib.js
item:
  defines: entity
  metadata:
    name: item
    version: "1"
  schema:
    required: [endpoint, name]
    endpoint: {type: string}
    name: {type: string}
    size: {type: integer, default: 1}
    token_secret: {type: string, default: api-token}
    start_sleep_ms: {type: integer, default: 0}
  requires: [cli, secret, http, test-api/lib]
  lifecycle:
    sync: <<< item.js
    resize: ''
    peek: ''
    fail: ''
  checks:
    readiness: {period: ${o.period ?? 1}, initialDelay: 0, attempts: ${o.attempts ?? 10}}
    liveness: {period: ${o.period ?? 1}}
  services:
    data: {protocol: custom}
one:
  defines: test-api/item
  endpoint: ${o.apiUrl}
  name: first
  size: ${o.size ?? 2}
  start_sleep_ms: ${o.startSleepMs ?? 0}
  permitted-secrets:
    api-token: true
bucket:
  defines: entity
  schema:
    required: [bucket, endpoint]
    bucket: {type: string}
    region: {type: string, default: eu-west-1}
    endpoint: {type: string}
  requires: [cloud/aws]
  lifecycle:
    sync: <<< bucket.js
  checks:
    readiness: {period: 1, attempts: 5}
photos:
  defines: test-api/bucket
  bucket: photos
  endpoint: ${o.s3Url}
hook:
  defines: entity
  schema:
    name: {type: string}
  lifecycle:
    create: {url: ${o.hookUrl}/create}
    start: {url: ${o.hookUrl}/start}
    ping: {url: ${o.hookUrl}/ping}
hooked:
  defines: test-api/hook
  name: hooked-one
bundle:
  defines: group
  members: [test-api/hooked, test-api/lib]
reader:
  defines: runnable
  connections:
    item: {target: test-api/one}
  depends:
    wait-for: {runnables: [test-api/one], timeout: 60}
  actions:
    show:
      code: connection-target("item") entity-state get-member("id")
  containers:
    main:
      image: ${o.image ?? 'monk-test/busybox:1'}
      bash: exec sleep 3600
`
}

/** Writes the kit into `dir` (kit.yaml with the JS beside it); returns the YAML's path. */
export function writeKit (dir: string, o: Parameters<typeof kitYaml>[0]): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'item.js'), ITEM_JS)
  writeFileSync(join(dir, 'lib.js'), LIB_JS)
  writeFileSync(join(dir, 'bucket.js'), BUCKET_JS)
  writeFileSync(join(dir, 'kit.yaml'), kitYaml(o))
  return join(dir, 'kit.yaml')
}
