import { createColors } from 'picocolors';

import type { Json } from '../template/index.js';
import { formatDuration, isHiddenDigest, shortId } from '../template/index.js';

import type { Change } from './diff.js';
import { isContentRef } from './diff.js';
import type { ActionKind, Plan } from './plan.js';

/** Specs hold milliseconds and bytes; plans show them the way templates write them. */
const DURATION_KEYS = new Set([
  'interval',
  'timeout',
  'start_period',
  'pause',
  'keep_previous',
  'stop_grace',
  'build_timeout',
  'debounce',
  'max_p99_latency',
]);

function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** The value as a person would write it: references as name@revision, hidden as (hidden), units restored. */
function humanize(v: Json, key?: string): unknown {
  if (isHiddenDigest(v)) return '(hidden)';
  if (isContentRef(v)) return v.revision ? `${v.$ref}@${shortId(v.revision)}` : v.$ref;
  if (typeof v === 'number' && key !== undefined) {
    if (DURATION_KEYS.has(key)) return formatDuration(v);
    if (key === 'memory') return formatBytes(v);
  }
  if (Array.isArray(v)) return v.map((item) => humanize(item, key));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, humanize(item, k)]));
  }
  return v;
}

/** A value as people read it in a plan: hidden values never shown. */
export function displayValue(v: Json | undefined, key?: string): string {
  if (v === undefined) return '(not set)';
  const human = humanize(v, key);
  const text = typeof human === 'string' && human !== v ? human : JSON.stringify(human);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function lastKey(path: string): string | undefined {
  return /([A-Za-z_][A-Za-z0-9_-]*)(\[\d+\])*$/.exec(path)?.[1];
}

/** The value with hidden digests replaced by '(hidden)' (for JSON output). */
export function redact(v: Json): Json {
  if (isHiddenDigest(v)) return '(hidden)';
  if (Array.isArray(v)) return v.map(redact);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, redact(item)]));
  }
  return v;
}

const SYMBOL: Record<ActionKind, string> = {
  create: '+',
  replace: '±',
  update: '~',
  delete: '-',
  noop: '=',
};

export interface RenderOptions {
  readonly color: boolean;
  /** Also list unchanged resources. */
  readonly verbose?: boolean;
}

/** The plan as text for a terminal or a log. */
export function renderPlan(plan: Plan, options: RenderOptions): string {
  const c = createColors(options.color);
  const paint: Record<ActionKind, (s: string) => string> = {
    create: c.green,
    replace: c.magenta,
    update: c.yellow,
    delete: c.red,
    noop: c.dim,
  };
  const s = plan.summary;
  const lines = [
    c.bold(
      `Plan for stack ${plan.stack}: ${s.create} to create, ${s.replace} to replace, ${s.update} to update, ${s.delete} to delete, ${s.noop} unchanged.`,
    ),
  ];
  const shown = plan.actions.filter((a) => options.verbose || a.action !== 'noop');
  if (shown.length === 0) lines.push('', 'Nothing to do: what runs matches the template.');
  const width = Math.max(0, ...shown.map((a) => a.resource.length));
  const typeWidth = Math.max(0, ...shown.map((a) => a.type.length));
  for (const a of shown) {
    const p = paint[a.action];
    lines.push(
      `${p(`${SYMBOL[a.action]} ${a.action.padEnd(7)}`)} ${c.bold(a.resource.padEnd(width))}  ${c.dim(a.type.padEnd(typeWidth))}  ${a.reason}`,
    );
    if (a.action === 'delete' || a.action === 'noop') continue;
    for (const change of a.changes) {
      // A new resource lists what it sets; empty defaults are noise there.
      if (a.action === 'create' && isEmpty(change.after)) continue;
      lines.push(`    ${renderChange(change, a.action === 'create')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function renderChange(change: Change, creating: boolean): string {
  const key = lastKey(change.path);
  if (creating) return `${change.path}: ${displayValue(change.after, key)}`;
  return `${change.path}: ${displayValue(change.before, key)} → ${displayValue(change.after, key)}`;
}

function isEmpty(v: Json | undefined): boolean {
  return (
    (Array.isArray(v) && v.length === 0) ||
    (v !== null && typeof v === 'object' && Object.keys(v).length === 0)
  );
}

/** The plan as JSON: `{ stack, summary, actions: [{ resource, type, action, reason, changes, revision }] }`. */
export function planJson(plan: Plan): Json {
  return {
    stack: plan.stack,
    summary: { ...plan.summary },
    actions: plan.actions.map((a) => ({
      resource: a.resource,
      type: a.type,
      action: a.action,
      reason: a.reason,
      changes: a.changes.map((ch) => ({
        path: ch.path,
        ...(ch.before === undefined ? {} : { before: redact(ch.before) }),
        ...(ch.after === undefined ? {} : { after: redact(ch.after) }),
      })),
      revision: { ...a.revision },
      ...(a.retain ? { retain: true } : {}),
    })),
  };
}
