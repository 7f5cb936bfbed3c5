// A tiny app behind nginx: answers on 127.0.0.1:$PORT (Drover gives each
// instance its own) with which instance served the request.
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const instance = process.env.DROVER_INSTANCE ?? `pid ${process.pid}`;

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(req.url === '/healthz' ? 'ok\n' : `served by ${instance}\n`);
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
