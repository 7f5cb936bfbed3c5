import type {
  ApplyResult,
  InstanceInfo,
  RevisionInfo,
  ServiceLogLine,
  StackRevisionInfo,
  StackStatus,
} from '../../engine/types.js';
import type { Plan } from '../../plan/index.js';
import type { DriftReport } from '../../reconcile/index.js';
import type { Endpoint, Route } from '../../registry/index.js';

/** What the FakeEngine answers: one stack `hello` with a service `web`. */
export function samplePlan(stack: string): Plan {
  return {
    stack,
    actions: [
      {
        resource: 'web',
        type: 'Drover::Service',
        action: 'create',
        reason: 'new resource',
        changes: [{ path: 'command', after: ['node', 'server.js'] }],
        revision: { after: 'a'.repeat(64) },
      },
    ],
    summary: { create: 1, replace: 0, update: 0, delete: 0, noop: 0 },
  };
}

export function convergedResult(stack: string): ApplyResult {
  return {
    stack,
    status: 'converged',
    stackRevision: 1,
    plan: samplePlan(stack),
    outputs: [{ name: 'url', value: 'http://hello.localhost:8080/' }],
  };
}

export const sampleStatus: StackStatus = {
  stack: 'hello',
  file: '/srv/hello/stack.yaml',
  stackRevision: 1,
  appliedAt: '2026-01-01T00:00:00.000Z',
  resources: [
    {
      name: 'web',
      type: 'Drover::Service',
      revision: 'a'.repeat(64),
      replicas: { desired: 2, running: 2, healthy: 1 },
    },
  ],
  outputs: [{ name: 'url', value: 'http://hello.localhost:8080/' }],
};

export const sampleInstances: InstanceInfo[] = [
  {
    id: 'web-3f9c2a',
    stack: 'hello',
    service: 'web',
    revision: 'a'.repeat(64),
    runtime: 'process',
    state: 'running',
    health: 'healthy',
    serving: true,
    port: 41001,
    pid: 4242,
    dir: '/home/drover/instances/web-3f9c2a',
    startedAt: '2026-01-01T00:00:00.000Z',
  },
  {
    id: 'web-77d01e',
    stack: 'hello',
    service: 'web',
    revision: 'b'.repeat(64),
    runtime: 'docker',
    state: 'draining',
    health: 'unknown',
    serving: false,
    port: 41002,
    container: 'c0ffee123456',
  },
];

export const sampleRevisions: RevisionInfo[] = [
  {
    id: 'a'.repeat(64),
    stack: 'hello',
    resource: 'web',
    type: 'Drover::Service',
    createdAt: '2026-01-02T00:00:00.000Z',
    createdBy: 'alice',
    templateHash: 'c'.repeat(64),
    parameters: { version: '2', token: '(hidden)' },
    spec: {},
    current: true,
  },
  {
    id: 'b'.repeat(64),
    stack: 'hello',
    resource: 'web',
    type: 'Drover::Service',
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'bob',
    templateHash: 'd'.repeat(64),
    parameters: { version: '1', token: '(hidden)' },
    spec: {},
    current: false,
  },
];

export const sampleStackRevisions: StackRevisionInfo[] = [
  {
    number: 2,
    stack: 'hello',
    createdAt: '2026-01-02T00:00:00.000Z',
    createdBy: 'alice',
    templateHash: 'c'.repeat(64),
    kind: 'apply',
    resources: { web: 'a'.repeat(64) },
  },
  {
    number: 1,
    stack: 'hello',
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'bob',
    templateHash: 'd'.repeat(64),
    kind: 'apply',
    resources: { web: 'b'.repeat(64) },
  },
];

export function sampleDrift(): DriftReport {
  return {
    instances: [
      {
        stack: 'hello',
        service: 'web',
        instance: 'web-0a1b2c3d4e',
        revision: 'a'.repeat(64),
        runtime: 'process',
        changes: [
          { field: 'file', path: 'server.js', kind: 'changed' },
          { field: 'env', name: 'DEBUG', kind: 'added' },
        ],
        detectedAt: '2026-01-01T00:00:00.000Z',
      },
    ],
    rendered: [],
    scannedAt: '2026-01-01T00:00:01.000Z',
    scanned: 2,
  };
}

export const sampleRoutes: Route[] = [
  { stack: 'hello', name: 'web_route', host: 'hello.localhost', path: '/', service: 'web' },
];

export const sampleEndpoints: Endpoint[] = [
  {
    stack: 'hello',
    service: 'web',
    instance: 'web-3f9c2a',
    address: '127.0.0.1',
    port: 41001,
    revision: 'a'.repeat(64),
    color: 'green',
    weight: 1,
    healthy: true,
  },
  {
    stack: 'hello',
    service: 'web',
    instance: 'web-77d01e',
    address: '127.0.0.1',
    port: 41002,
    revision: 'b'.repeat(64),
    color: 'blue',
    weight: 0,
    healthy: true,
    draining: true,
  },
];

/** The output of `hello/web` so far: both instances, as the engine merges them. */
export const sampleLogs: ServiceLogLine[] = [
  { instance: 'web-3f9c2a', stream: 'stdout', line: 'listening on 127.0.0.1:41001' },
  { instance: 'web-77d01e', stream: 'stdout', line: 'listening on 127.0.0.1:41002' },
  { instance: 'web-3f9c2a', stream: 'stderr', line: 'GET /missing 404' },
];
