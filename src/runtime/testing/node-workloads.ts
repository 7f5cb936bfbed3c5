import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The contract workloads as small Node.js scripts, for the process runtime
 * (see ContractWorkloads). Returns the directory holding them: build it into
 * a snapshot and run `node <script>`.
 */
export function writeNodeWorkloads(): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-workloads-'));
  writeFileSync(
    join(dir, 'server.js'),
    `const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  const m = /^\\/env\\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(req.url);
  if (m && process.env[m[1]] !== undefined) return res.end(process.env[m[1]]);
  res.statusCode = 404;
  res.end('not found');
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('started');
  console.error('ready');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
  );
  writeFileSync(join(dir, 'exit3.js'), 'process.exit(3);\n');
  writeFileSync(
    join(dir, 'stubborn.js'),
    "process.on('SIGTERM', () => console.log('ignoring SIGTERM'));\nsetInterval(() => {}, 1000);\nconsole.log('started');\n",
  );
  writeFileSync(
    join(dir, 'hog.js'),
    'const hold = [];\nsetInterval(() => { for (let i = 0; i < 8; i++) hold.push(Buffer.alloc(4 * 1024 * 1024, 1)); }, 20);\n',
  );
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  return dir;
}
