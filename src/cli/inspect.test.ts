import { PassThrough } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TestDaemon } from '../api/testing/index.js';
import { sampleDrift, sampleInstances, startTestDaemon } from '../api/testing/index.js';

import { main } from './index.js';
import { runCli } from './testing.js';

let daemon: TestDaemon;

beforeEach(async () => {
  daemon = await startTestDaemon();
});
afterEach(() => daemon.close());

const env = (): NodeJS.ProcessEnv => ({ DROVER_HOME: daemon.home, DROVER_API: daemon.url });

describe('drover status', () => {
  it('shows each stack with its resources, replicas and outputs', async () => {
    const run = await runCli(['status'], env());
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        'hello  revision 1, applied 2026-01-01T00:00:00Z, /srv/hello/stack.yaml',
        '  RESOURCE  TYPE             REVISION      REPLICAS                DEPLOYMENT',
        '  web       Drover::Service  aaaaaaaaaaaa  2/2 running, 1 healthy  -',
        '  Outputs:',
        '    url = http://hello.localhost:8080/',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON with --json, and one stack when named', async () => {
    const all = await runCli(['status', '--json'], env());
    expect(JSON.parse(all.stdout)).toMatchObject([{ stack: 'hello' }]);
    const one = await runCli(['status', 'hello', '--json'], env());
    expect(JSON.parse(one.stdout)).toMatchObject({ stack: 'hello', stackRevision: 1 });
    expect(await runCli(['status', 'nope'], env())).toMatchObject({
      code: 2,
      stderr: "drover: no stack 'nope'\n",
    });
  });
});

describe('drover ps', () => {
  it('lists instances in a table', async () => {
    const run = await runCli(['ps'], env());
    expect(run.code).toBe(0);
    const [header, first, second] = run.stdout.split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'ID',
      'STACK',
      'SERVICE',
      'REVISION',
      'STATE',
      'HEALTH',
      'SERVING',
      'PORT',
      'PID/CONTAINER',
      'DIR',
    ]);
    expect(first?.split(/\s{2,}/)).toEqual([
      'web-3f9c2a',
      'hello',
      'web',
      'aaaaaaaaaaaa',
      'running',
      'healthy',
      'yes',
      '41001',
      'pid 4242',
      '/home/drover/instances/web-3f9c2a',
    ]);
    expect(second?.split(/\s{2,}/)).toEqual([
      'web-77d01e',
      'hello',
      'web',
      'bbbbbbbbbbbb',
      'draining',
      'unknown',
      'no',
      '41002',
      'c0ffee123456',
      '-',
    ]);
  });

  it('prints every field with --json and filters by stack and service', async () => {
    const run = await runCli(['ps', '--json', '--stack', 'hello', '--service', 'web'], env());
    expect(JSON.parse(run.stdout)).toEqual(sampleInstances);
    expect(daemon.engine.calls.at(-1)).toEqual({
      method: 'instances',
      args: [{ stack: 'hello', service: 'web' }],
    });
    const none = await runCli(['ps', '--stack', 'other'], env());
    expect(none.stdout).toBe('No instances.\n');
  });
});

describe('drover drift', () => {
  it('prints a block per drifted instance and exits 1, as git diff --exit-code', async () => {
    const run = await runCli(['drift'], env());
    expect(run).toEqual({
      code: 1,
      stderr: '',
      stdout: [
        'hello/web web-0a1b2c3d4e (process, revision aaaaaaaaaaaa): 2 changes',
        '  file server.js changed',
        '  env DEBUG added',
        '',
      ].join('\n'),
    });
  });

  it('names rendered files changed by hand; colours only on a terminal', async () => {
    daemon.engine.drift = async () => ({
      ...sampleDrift(),
      instances: [],
      rendered: [
        {
          stack: 'web',
          resource: 'nginx-conf',
          path: '/etc/nginx/conf.d/app.conf',
          kind: 'changed',
          detectedAt: '2026-01-01T00:00:00.000Z',
        },
      ],
    });
    const run = await runCli(['drift'], env());
    expect(run).toMatchObject({
      code: 1,
      stdout: 'web/nginx-conf: /etc/nginx/conf.d/app.conf changed outside Drover\n',
    });
    const tty = await runCli(['drift'], env(), true);
    expect(tty.stdout).toContain('\u001b[1mweb/nginx-conf\u001b[22m');
  });

  it('says how many instances it looked at when nothing drifted, and exits 0', async () => {
    daemon.engine.drift = async () => ({ ...sampleDrift(), instances: [] });
    expect(await runCli(['drift'], env())).toEqual({
      code: 0,
      stderr: '',
      stdout: 'no drift: 2 instances match their revisions\n',
    });
  });

  it('prints the report with --json, filters by stack, and exits 2 for an unknown one', async () => {
    const run = await runCli(['drift', '--json', '--stack', 'hello'], env());
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual(sampleDrift());
    expect(daemon.engine.calls.at(-1)).toEqual({ method: 'drift', args: [{ stack: 'hello' }] });
    expect(await runCli(['drift', '--stack', 'nope'], env())).toEqual({
      code: 2,
      stdout: '',
      stderr: "drover: no stack 'nope'\n",
    });
  });

  it('exits 3 when the daemon refuses the token', async () => {
    const run = await runCli(['drift', '--json'], { ...env(), DROVER_TOKEN: 'drv_wrong' });
    expect(run).toMatchObject({ code: 3, stdout: '' });
  });
});

describe('drover history', () => {
  it("lists a service's revisions, the current one marked", async () => {
    const run = await runCli(['history', 'hello/web'], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        '   REVISION      CREATED               BY     PARAMETERS',
        '*  aaaaaaaaaaaa  2026-01-02T00:00:00Z  alice  version=2 token=(hidden)',
        '   bbbbbbbbbbbb  2026-01-01T00:00:00Z  bob    version=1 token=(hidden)',
        '',
      ].join('\n'),
    );
    expect(daemon.engine.calls.at(-1)).toEqual({ method: 'history', args: ['hello', 'web'] });
  });

  it("lists a stack's revisions, and JSON with --json", async () => {
    const run = await runCli(['history', 'hello'], env());
    expect(run.stdout).toContain('STACK REVISION  KIND   CREATED               BY     RESOURCES\n');
    expect(run.stdout).toContain(
      '2               apply  2026-01-02T00:00:00Z  alice  web@aaaaaaaaaaaa\n',
    );
    const json = await runCli(['history', 'hello', '--json'], env());
    expect((JSON.parse(json.stdout) as { number: number }[]).map((r) => r.number)).toEqual([2, 1]);
    expect((await runCli(['history', 'nope/web'], env())).code).toBe(2);
  });
});

describe('drover events', () => {
  beforeEach(() => {
    daemon.engine.record({ type: 'apply.started', stack: 'hello', who: 'alice', message: 'apply' });
    daemon.engine.record({ stack: 'hello', resource: 'web', phase: 'healthy', message: 'ok' });
    daemon.engine.record({ type: 'daemon.started', message: 'daemon started' });
  });

  it('lists recorded events, one line each', async () => {
    const run = await runCli(['events'], env());
    expect(run.stdout).toBe(
      [
        '2026-01-01T00:00:00Z #1  apply.started     hello  apply  (alice)',
        '2026-01-01T00:00:01Z #2  progress          hello/web  healthy: ok',
        '2026-01-01T00:00:02Z #3  daemon.started    -  daemon started',
        '',
      ].join('\n'),
    );
  });

  it('filters by stack and since, and prints JSON lines with --json', async () => {
    const run = await runCli(['events', '--stack', 'hello', '--since', '1', '--json'], env());
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number });
    expect(lines.map((e) => e.seq)).toEqual([2]);
    expect((await runCli(['events', '--since', 'x'], env())).code).toBe(2);
  });

  it('follows new events until interrupted', async () => {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const stop = new AbortController();
    const running = main(['node', 'drover', 'events', '--follow', '--since', '2'], {
      env: env(),
      stdout,
      stderr: new PassThrough(),
      signal: stop.signal,
    });
    await expect.poll(() => text).toContain('daemon started');
    daemon.engine.record({ type: 'deploy.succeeded', stack: 'hello', message: 'web is live' });
    await expect.poll(() => text).toContain('web is live');
    stop.abort();
    expect(await running).toBe(0);
    expect(text).not.toContain('#2');
  });

  it('exits 3 when the daemon goes away while following', async () => {
    const stderr = new PassThrough();
    let errors = '';
    stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const running = main(['node', 'drover', 'events', '-f'], { env: env(), stdout, stderr });
    await expect.poll(() => text).toContain('daemon started');
    await daemon.close();
    expect(await running).toBe(3);
    expect(errors).toContain(`drover: lost the connection to the daemon at ${daemon.url}`);
    daemon = await startTestDaemon();
  });
});

describe('finding the daemon', () => {
  it('says so, exit 3, when no daemon answers', async () => {
    const url = daemon.url;
    await daemon.close();
    const run = await runCli(['status'], { ...env(), DROVER_API: url });
    expect(run).toEqual({
      code: 3,
      stdout: '',
      stderr: `drover: no Drover daemon at ${url} (start one with \`drover serve\` or \`drover up FILE\`)\n`,
    });
    const flag = await runCli(['ps', '--api', `${url}/`], { DROVER_HOME: daemon.home });
    expect(flag.stderr).toContain(`no Drover daemon at ${url} `);
    daemon = await startTestDaemon();
  });

  it('takes --api over DROVER_API', async () => {
    const run = await runCli(['status', '--api', daemon.url], {
      ...env(),
      DROVER_API: 'http://127.0.0.1:1',
    });
    expect(run.code).toBe(0);
  });

  it('uses $DROVER_HOME/admin.token, and DROVER_TOKEN over it', async () => {
    expect((await runCli(['status'], env())).code).toBe(0);
    const viewer = (await daemon.tokens.create('viewer', 'dash', 'test')).token;
    const asViewer = await runCli(['destroy', 'hello', '--yes'], {
      ...env(),
      DROVER_TOKEN: viewer,
    });
    expect(asViewer.code).toBe(3);
    expect(asViewer.stderr).toBe("drover: this needs a deployer token; 'dash' is a viewer token\n");
    expect((await runCli(['status'], { ...env(), DROVER_TOKEN: viewer })).code).toBe(0);
  });

  it('explains where the token came from when the daemon refuses it', async () => {
    const wrong = await runCli(['status'], { ...env(), DROVER_TOKEN: 'drv_wrong' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toBe(
      'drover: the token is not valid (mistyped, or revoked) (token from DROVER_TOKEN)\n',
    );
    const none = await runCli(['status'], { DROVER_API: daemon.url, DROVER_HOME: '/nonexistent' });
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(
      'token from nowhere: set DROVER_TOKEN, or make /nonexistent/admin.token readable',
    );
  });

  it('says when something else answers at the address', async () => {
    const { createServer } = await import('node:http');
    const other = createServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>nope</h1>'),
    );
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const address = other.address() as { port: number };
    const run = await runCli(['status'], {
      ...env(),
      DROVER_API: `http://127.0.0.1:${address.port}`,
    });
    other.close();
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('answered, but not as a Drover daemon: HTTP 404 <h1>nope</h1>');
  });
});
