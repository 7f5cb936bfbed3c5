import { createColors } from 'picocolors';

import type { ApplyResult, EngineEvent, ProgressPhase } from '../engine/types.js';
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

/**
 * One line per event, `resource  phase  message`, columns lined up for the
 * resources known in advance (from the plan).
 */
export function progressPrinter(
  out: NodeJS.WritableStream,
  color: boolean,
  knownNames: readonly string[] = [],
): (event: EngineEvent) => void {
  const c = createColors(color);
  const paint = paintPhase(c);
  let width = Math.max(0, ...knownNames.map((n) => n.length));
  return (event) => {
    const name = event.resource ?? event.stack ?? '-';
    width = Math.max(width, name.length);
    const phase = event.phase ?? event.type;
    const painted = (event.phase && paint[event.phase]) ?? ((s: string) => s);
    out.write(`${c.bold(name.padEnd(width))}  ${painted(phase.padEnd(12))}  ${event.message}\n`);
  };
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
