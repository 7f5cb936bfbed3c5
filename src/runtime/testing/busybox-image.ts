import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { ContractWorkloads } from '../contract-types.js';
import type { InstanceArtifact } from '../runtime.js';

const run = promisify(execFile);

/** Debian's busybox-static: one static binary, so it runs FROM scratch. */
export const BUSYBOX = '/bin/busybox';

/**
 * The contract's server (see ContractWorkloads): busybox httpd on
 * 127.0.0.1:$PORT. httpd can only run CGI under /cgi-bin/, so /env/NAME is
 * served as static files: the environment is written out once at start,
 * under /dev/shm — a tmpfs, so it is no change to the container's files
 * (drift detection would see it otherwise). "started"/"ready" are printed
 * once it answers; SIGTERM stops httpd and exits 0.
 */
const SERVE = `# Run by the image's own sh: a shell inside the test image, never in Drover.
mkdir -p /dev/shm/drover-env
awk 'BEGIN {
  for (name in ENVIRON) {
    if (name !~ /^[A-Za-z_][A-Za-z0-9_]*$/) continue
    file = "/dev/shm/drover-env/" name
    printf "%s", ENVIRON[name] > file
    close(file)
  }
}'
httpd -f -p "127.0.0.1:$PORT" -h /www &
pid=$!
trap 'kill -TERM "$pid"; wait "$pid" 2>/dev/null; exit 0' TERM INT
until wget -q -O /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { wait "$pid"; exit 1; }
  sleep 0.05
done
echo started
echo ready >&2
wait "$pid"
`;

/** GET /cgi-bin/env: the environment httpd gives its CGI scripts, which includes the container's. */
const CGI_ENV = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
env
`;

const DOCKERFILE = `FROM scratch
COPY bin/ /bin/
COPY www/ /www/
COPY serve.sh /serve.sh
CMD ["/bin/sh", "/serve.sh"]
`;

export interface BusyboxContext {
  /** The build context: busybox with a link per applet in bin/, www/, serve.sh and the Dockerfile. */
  readonly dir: string;
  readonly dockerfile: string;
  remove(): Promise<void>;
}

/**
 * Writes a build context for an image `FROM scratch` holding busybox, its
 * applets as symbolic links in /bin (so `sh`, `sleep`, `touch`… are found on
 * PATH, as on a host), and the contract's server as the image's command.
 */
export async function writeBusyboxContext(busybox = BUSYBOX): Promise<BusyboxContext> {
  const dir = await mkdtemp(join(tmpdir(), 'drover-busybox-'));
  await mkdir(join(dir, 'bin'));
  await copyFile(busybox, join(dir, 'bin', 'busybox'));
  const { stdout } = await run(busybox, ['--list']);
  for (const applet of stdout.split('\n')) {
    if (applet !== '' && applet !== 'busybox') await symlink('busybox', join(dir, 'bin', applet));
  }
  await mkdir(join(dir, 'www'));
  await writeFile(join(dir, 'www', 'healthz'), 'ok');
  // A CGI script: busybox httpd runs it with the container's environment.
  await mkdir(join(dir, 'www', 'cgi-bin'));
  await writeFile(join(dir, 'www', 'cgi-bin', 'env'), CGI_ENV, { mode: 0o755 });
  // Relative, so that it stays a link within the artifact (contexts refuse absolute
  // ones); from /www it reaches /dev/shm in the container.
  await symlink('../dev/shm/drover-env', join(dir, 'www', 'env'));
  await writeFile(join(dir, 'serve.sh'), SERVE);
  await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
  return {
    dir,
    dockerfile: 'Dockerfile',
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The contract workloads in the image built from the context (an image artifact). */
export function busyboxWorkloads(artifact: InstanceArtifact): ContractWorkloads {
  const sh = (script: string): { artifact: InstanceArtifact; command: readonly string[] } => ({
    artifact,
    command: ['sh', '-c', script],
  });
  return {
    // The image's own command.
    server: { artifact },
    exitThree: sh('exit 3'),
    stubborn: sh('trap "" TERM; echo started; while true; do sleep 1; done'),
    // tail keeps the current line in memory, and /dev/zero never ends one.
    memoryHog: sh('head -c 2000000000 /dev/zero | tail'),
  };
}
