// Drover's proxy for bench/proxy: one process, or a cluster of workers sharing the port.
// node bench/proxy-server.mjs PORT BACKEND_PORT [WORKERS]
import cluster from 'node:cluster';

import { proxy as proxyLayer } from '../dist/index.js';

const [port, backendPort, workersText] = process.argv.slice(2).map(Number);
const workers = workersText || 1;

async function serve() {
  const proxy = new proxyLayer.Proxy({ port, host: '127.0.0.1' });
  proxy.update({
    revision: 1,
    routes: [{ stack: 'bench', name: 'all', path: '/', service: 'web' }],
    endpoints: [
      {
        stack: 'bench',
        service: 'web',
        instance: 'nginx',
        address: '127.0.0.1',
        port: backendPort,
        revision: 'r1',
        weight: 1,
        healthy: true,
      },
    ],
  });
  await proxy.listen();
  process.send?.('ready');
  process.on('SIGTERM', () => process.exit(0));
}

if (workers > 1 && cluster.isPrimary) {
  // Let the kernel hand out connections: round-robin through the primary costs a hop per connection.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', () => {
      if (++ready === workers) console.log('ready');
    });
  }
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  await serve();
  if (workers === 1) console.log('ready');
}
