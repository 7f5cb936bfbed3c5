import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';

export function nginxInstalled(): boolean {
  return existsSync(NGINX);
}

/** A real nginx (master + 1 worker, `daemon off`) of our own, in its own prefix directory. */
export interface TestNginx {
  readonly port: number;
  readonly prefix: string;
  readonly conf: string;
  /** `nginx -s reload` for this instance, as an argv. */
  readonly reloadArgv: readonly string[];
  /** The master's current worker pids (children of the master, from /proc). */
  workers(): Promise<number[]>;
  /** The error log so far, for failure messages. */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** A free loopback port: bind port 0, read it, let it go. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Where an instance in `prefix` keeps its files, and the argv that reloads
 * it: known before it starts, so a renderer can be given the reload first.
 */
export function nginxFiles(prefix: string) {
  const conf = join(prefix, 'nginx.conf');
  const errorLog = join(prefix, 'logs', 'error.log');
  // -e: nginx opens its error log before reading the config; the default is not ours.
  const base = ['-p', prefix, '-c', conf, '-e', errorLog];
  return {
    conf,
    errorLog,
    pidFile: join(prefix, 'nginx.pid'),
    base,
    reloadArgv: [NGINX, ...base, '-s', 'reload'],
  };
}

/**
 * Starts nginx proxying every request on 127.0.0.1:<port> to the upstream
 * `upstream` defined in the included file (which must exist). Resolves once
 * the master has written its pid file.
 */
export async function startNginx(options: NginxSite): Promise<TestNginx> {
  const { prefix } = options;
  const { conf, pidFile, errorLog, base, reloadArgv } = nginxFiles(prefix);
  const port = await freePort();
  await writeNginxConf({ ...options, port });
  const master: ChildProcess = spawn(NGINX, base, { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => master.once('exit', () => resolve()));
  const started = Date.now();
  while (!existsSync(pidFile)) {
    if (master.exitCode !== null || Date.now() - started > 10_000) {
      throw new Error(`nginx did not start:\n${await readFile(errorLog, 'utf8')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    prefix,
    conf,
    reloadArgv,
    workers: async () => childrenOf(master.pid ?? -1),
    errorLog: () => readFile(errorLog, 'utf8'),
    stop: async () => {
      if (master.exitCode === null && master.signalCode === null) {
        // SIGTERM is nginx's fast shutdown: the master stops its workers, then exits.
        master.kill('SIGTERM');
        const timer = setTimeout(() => master.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

export interface NginxSite {
  readonly prefix: string;
  /** The rendered file, included inside http {}. */
  readonly include: string;
  /** The upstream it defines, which the server proxies to. */
  readonly upstream: string;
}

/** `nginx -t` on the prefix's config: whether nginx would load it, and what it said. */
export async function checkNginxConf(
  site: NginxSite,
): Promise<{ readonly ok: boolean; readonly output: string }> {
  await writeNginxConf({ ...site, port: await freePort() });
  const { base } = nginxFiles(site.prefix);
  return new Promise((resolve) => {
    const child = spawn(NGINX, [...base, '-t'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}

/** The same shape as examples/nginx-upstreams/nginx.conf, in the prefix, in the foreground. */
async function writeNginxConf(options: NginxSite & { readonly port: number }): Promise<void> {
  const { prefix, port } = options;
  const { conf, pidFile, errorLog } = nginxFiles(prefix);
  await mkdir(join(prefix, 'logs'), { recursive: true });
  await mkdir(join(prefix, 'temp'), { recursive: true });
  const temp = (name: string) => `${join(prefix, 'temp', name)}`;
  await writeFile(
    conf,
    [
      'daemon off;',
      'master_process on;',
      'worker_processes 1;',
      // As root, workers would run as nobody, who cannot enter our 0700 temp dirs.
      process.getuid?.() === 0 ? `user ${userInfo().username};` : '',
      `pid ${pidFile};`,
      `error_log ${errorLog} notice;`,
      'events { worker_connections 512; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${temp('body')};`,
      `  proxy_temp_path ${temp('proxy')};`,
      `  fastcgi_temp_path ${temp('fastcgi')};`,
      `  uwsgi_temp_path ${temp('uwsgi')};`,
      `  scgi_temp_path ${temp('scgi')};`,
      `  include ${options.include};`,
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    location / {',
      `      proxy_pass http://${options.upstream};`,
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_next_upstream error timeout http_502;',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
}

async function childrenOf(parent: number): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    // A process may exit between readdir and this read: then it is nobody's child.
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // Fields after the parenthesised command: state, ppid, …
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent) pids.push(Number(name));
  }
  return pids.sort((a, b) => a - b);
}
