// A toy key-value store over HTTP, keeping its data in the volume mounted at ./data.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const dir = 'data';
mkdirSync(dir, { recursive: true });

createServer((req, res) => {
  const key = encodeURIComponent((req.url ?? '/').slice(1) || 'index');
  if (req.method === 'PUT') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      writeFileSync(join(dir, key), Buffer.concat(chunks));
      res.end('stored\n');
    });
    return;
  }
  try {
    res.end(readFileSync(join(dir, key)));
  } catch {
    res.writeHead(404).end('not found\n');
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
