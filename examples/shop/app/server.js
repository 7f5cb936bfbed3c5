// The shop front: shows its config and where its database is.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok\n');
  let config = '';
  try {
    config = readFileSync('config/front.ini', 'utf8');
  } catch {
    config = '(no config mounted)';
  }
  res.end(`shop (${process.env.MODE})\ndatabase: ${process.env.DATABASE_URL}\n${config}`);
}).listen(Number(process.env.PORT), '127.0.0.1');
