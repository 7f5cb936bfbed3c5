// The hello app: answers on 127.0.0.1:$PORT, which Drover gives each instance.
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const message = process.env.MESSAGE ?? 'Hello';
// Drover names each instance; which one answered shows the proxy balancing.
const instance = process.env.DROVER_INSTANCE ?? `pid ${process.pid}`;

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`${message} (instance ${instance})\n`);
});

// One line on standard output once it answers: `drover logs hello/web` shows it.
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
