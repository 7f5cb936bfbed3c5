import { createColors } from 'picocolors';

import type { ApplyResult, EngineEvent, ProgressPhase } from '../engine/types.js';
import { planJson } from '../plan/index.js';
import type { Json } from '../template/index.js';

type Colors = ReturnType<typeof createColors>;

const paintPhase = (c: Colors): Partial<Record<ProgressPhase, (s: string) => string>> => ({
  healthy: c.green,
  running: c.green,
  done: c.green,
  unhealthy: c.red,
  failed: c.red,
  'rolling-back': c.yellow,
  draining: c.dim,
  stopping: c.dim,
});

export interface ProgressOptions {
  readonly color: boolean;
  /**
   * On a terminal: one line per resource, redrawn in place with its current
   * phase (failures also stay above it). Otherwise one plain line per event.
   */
  readonly live: boolean;
  /** Resources known in advance (from the plan), so columns line up from the start. */
  readonly names?: readonly string[];
  /** The terminal's size (default: the stream's, else 80×24). */
  readonly columns?: number;
  readonly rows?: number;
}

type Out = NodeJS.WritableStream & { columns?: number; rows?: number };

/** Phases and event types worth keeping on screen after the live line moved on. */
const notable = (event: EngineEvent): boolean =>
  event.phase === 'failed' ||
  event.phase === 'unhealthy' ||
  event.phase === 'rolling-back' ||
  event.type.endsWith('.failed');

/** The progress of an apply, destroy or rollback as events come: `resource  phase  message`. */
export function progressPrinter(out: Out, options: ProgressOptions): (event: EngineEvent) => void {
  const c = createColors(options.color);
  const paint = paintPhase(c);
  let width = Math.max(0, ...(options.names ?? []).map((n) => n.length));
  const line = (event: EngineEvent, room = Infinity): string => {
    const name = event.resource ?? event.stack ?? '-';
    const phase = event.phase ?? event.type;
    const head = `${name.padEnd(width)}  ${phase.padEnd(12)}  `;
    const message =
      head.length + event.message.length <= room
        ? event.message
        : `${event.message.slice(0, Math.max(0, room - head.length - 1)).trimEnd()}…`;
    const painted = (event.phase && paint[event.phase]) ?? ((s: string) => s);
    return `${c.bold(name.padEnd(width))}  ${painted(phase.padEnd(12))}  ${message}`;
  };
  const plain = (event: EngineEvent): void => {
    width = Math.max(width, (event.resource ?? event.stack ?? '-').length);
    out.write(`${line(event)}\n`);
  };
  if (!options.live) return plain;

  // Live: the last event of each resource, in order of first appearance.
  const latest = new Map<string, EngineEvent>();
  let drawn = 0;
  let live = true;
  return (event) => {
    if (!live) return plain(event);
    const name = event.resource ?? event.stack ?? '-';
    width = Math.max(width, name.length);
    latest.set(name, event);
    const rows = options.rows ?? out.rows ?? 24;
    if (latest.size > rows - 2) {
      // Taller than the terminal: cursor movement cannot reach the top; go on in plain lines.
      live = false;
      return plain(event);
    }
    const room = Math.max(20, (options.columns ?? out.columns ?? 80) - 1);
    // Back to the block's first line, then every line cleared and written anew.
    let text = drawn > 0 ? `\r\u001b[${drawn}A` : '';
    if (notable(event)) text += `\u001b[2K${line(event)}\n`;
    for (const e of latest.values()) text += `\u001b[2K${line(e, room)}\n`;
    drawn = latest.size;
    out.write(text);
  };
}

/** The result of an apply, destroy or rollback as data (`-o json|yaml`): its plan as `drover plan` prints it. */
export function resultData(result: ApplyResult): unknown {
  return { ...result, plan: planJson(result.plan) };
}

/** An output or a parameter value as a person reads it: text bare, the rest as JSON. */
export function displayJson(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The end of an apply, destroy or rollback: a summary line and the outputs.
 * Only a converged or unchanged stack is a success; a failure says why on
 * stderr and returns false.
 */
export function reportResult(
  result: ApplyResult,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; color: boolean },
  verb: { readonly noun: string; readonly done: string },
): boolean {
  const c = createColors(io.color);
  if (result.status === 'failed') {
    io.err.write(
      `drover: ${verb.noun} of stack ${result.stack} failed: ${result.error ?? 'no reason given'}\n`,
    );
    return false;
  }
  const revision =
    result.stackRevision === undefined ? '' : ` (stack revision ${result.stackRevision})`;
  const summary =
    result.status === 'unchanged'
      ? `Stack ${result.stack} unchanged${revision}.`
      : `Stack ${result.stack} ${verb.done}${revision}.`;
  io.out.write(`${c.green(summary)}\n`);
  if (result.outputs.length > 0) {
    io.out.write('\nOutputs:\n');
    for (const o of result.outputs) io.out.write(`${o.name} = ${displayJson(o.value)}\n`);
  }
  return true;
}
