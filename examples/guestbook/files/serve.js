// A tiny static file server for hosts without busybox httpd (the process runtime):
// node serve.js HOST PORT DIR
const http = require('node:http')
const fs = require('node:fs')
const path = require('node:path')
const [host, port, dir] = process.argv.slice(2)
http.createServer((req, res) => {
  const name = decodeURIComponent(new URL(req.url, 'http://x').pathname)
  const file = path.join(dir, name.endsWith('/') ? name + 'index.html' : name)
  if (!file.startsWith(path.resolve(dir))) { res.writeHead(403); return res.end() }
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404); return res.end('not found\n') }
    res.writeHead(200); res.end(data)
  })
}).listen(Number(port), host)
