import type { Fingerprint } from '../runtime/index.js';

/**
 * One difference between what an instance was started as and what it is now.
 * Environment values are never shown (they may be secrets): only the
 * variable's name and whether it was added, removed or changed.
 */
export type DriftChange =
  | {
      /** A file in the instance's copy (processes) or in the container's filesystem (Docker). */
      readonly field: 'file';
      readonly path: string;
      readonly kind: 'added' | 'changed' | 'deleted';
    }
  | { readonly field: 'env'; readonly name: string; readonly kind: 'added' | 'changed' | 'removed' }
  | {
      readonly field: 'label';
      readonly name: string;
      readonly kind: 'added' | 'changed' | 'removed';
    }
  | {
      readonly field: 'command' | 'cwd' | 'image' | 'mounts';
      readonly before: string;
      readonly after: string;
    };

/** Drift of one instance, as `drover drift`, the events and the API report it. */
export interface DriftFinding {
  readonly stack: string;
  readonly service: string;
  readonly instance: string;
  readonly revision: string;
  readonly runtime: string;
  readonly changes: readonly DriftChange[];
  readonly detectedAt: string;
}

/** Drift of a file a ConfigTemplate renders: its content is not what Drover last wrote. */
export interface RenderedDrift {
  readonly stack: string;
  readonly resource: string;
  readonly path: string;
  readonly kind: 'changed' | 'deleted';
  readonly detectedAt: string;
}

/** A drift scan: every running instance and every rendered config file looked at. */
export interface DriftReport {
  readonly instances: readonly DriftFinding[];
  readonly rendered: readonly RenderedDrift[];
  readonly scannedAt: string;
  /** Instances looked at. */
  readonly scanned: number;
}

/**
 * What changed from `expected` (the fingerprint taken when the instance
 * started from its revision) to `actual`. Empty when nothing did.
 */
export function diffFingerprint(expected: Fingerprint, actual: Fingerprint): DriftChange[] {
  const changes: DriftChange[] = [];
  for (const field of ['image', 'cwd'] as const) {
    if (expected[field] !== actual[field])
      changes.push({ field, before: expected[field] ?? '', after: actual[field] ?? '' });
  }
  const argv = (a: readonly string[] | undefined): string => JSON.stringify(a ?? []);
  if (
    expected.command !== undefined &&
    actual.command !== undefined &&
    argv(expected.command) !== argv(actual.command)
  )
    changes.push({ field: 'command', before: argv(expected.command), after: argv(actual.command) });
  const mounts = (m: Fingerprint['mounts']): string =>
    (m ?? [])
      .map((x) => `${x.source}:${x.target}${x.readOnly ? ':ro' : ''}`)
      .sort()
      .join(', ');
  if (mounts(expected.mounts) !== mounts(actual.mounts))
    changes.push({
      field: 'mounts',
      before: mounts(expected.mounts),
      after: mounts(actual.mounts),
    });

  for (const [name, kind] of diffRecords(expected.env, actual.env))
    changes.push({ field: 'env', name, kind });
  for (const [name, kind] of diffRecords(expected.labels ?? {}, actual.labels ?? {}))
    changes.push({ field: 'label', name, kind });

  if (expected.files !== undefined && actual.files !== undefined) {
    for (const [path, kind] of diffRecords(expected.files, actual.files))
      changes.push({ field: 'file', path, kind: kind === 'removed' ? 'deleted' : kind });
  }
  if (actual.changes !== undefined) {
    const before = new Map((expected.changes ?? []).map((c) => [c.path, c.kind]));
    for (const c of actual.changes) {
      if (before.get(c.path) !== c.kind)
        changes.push({ field: 'file', path: c.path, kind: c.kind });
    }
  }
  return changes;
}

function diffRecords(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): [string, 'added' | 'changed' | 'removed'][] {
  const out: [string, 'added' | 'changed' | 'removed'][] = [];
  for (const name of Object.keys(before).sort()) {
    if (!Object.hasOwn(after, name)) out.push([name, 'removed']);
    else if (before[name] !== after[name]) out.push([name, 'changed']);
  }
  for (const name of Object.keys(after).sort())
    if (!Object.hasOwn(before, name)) out.push([name, 'added']);
  return out;
}

/** One change for people: `file app/server.js changed`, `env DEBUG added`, `image sha256:a… → sha256:b…`. */
export function describeChange(change: DriftChange): string {
  switch (change.field) {
    case 'file':
      return `file ${change.path} ${change.kind}`;
    case 'env':
      return `env ${change.name} ${change.kind}`;
    case 'label':
      return `label ${change.name} ${change.kind}`;
    default:
      return `${change.field} ${change.before || '(none)'} → ${change.after || '(none)'}`;
  }
}
