import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8000);
createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok\n');
  res.end(`hello from version ${process.env.VERSION ?? '?'}\n`);
}).listen(port, '127.0.0.1');
