import type { Readable } from 'node:stream';

import type Docker from 'dockerode';

import type { OwnerLabels, RuntimeEvent } from '../runtime.js';

import { engineMessage, wrapEngineError } from './client.js';
import { DockerApiError } from './errors.js';
import { exitStatus, LABELS, ownerOf } from './labels.js';
import { asReadable, field, jsonLines, stringField } from './streams.js';

function attributesOf(event: unknown): Record<string, string> {
  const raw = field(field(event, 'Actor'), 'Attributes');
  const attributes: Record<string, string> = {};
  if (typeof raw !== 'object' || raw === null) return attributes;
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string') attributes[key] = value;
  }
  return attributes;
}

/** The event's time: `timeNano` when given (nanoseconds since the epoch), else `time` (seconds). */
function timeOf(event: unknown): string {
  const nano = field(event, 'timeNano');
  if (typeof nano === 'number') return new Date(Math.floor(nano / 1e6)).toISOString();
  const seconds = field(event, 'time');
  return new Date(typeof seconds === 'number' ? seconds * 1000 : Date.now()).toISOString();
}

/** The instance id: the container's name without Drover's prefix (as in handles). */
function instanceOf(attributes: Record<string, string>, owner: OwnerLabels): string {
  const name = attributes['name'];
  return name?.startsWith('drover-') ? name.slice('drover-'.length) : owner.instance;
}

/**
 * Starts and exits of this home's containers, from the engine's event
 * stream, from the moment of the call (the engine replays what happened
 * before the stream was connected). An exit is `oomKilled` when the kernel
 * OOM-killed something in the container before it died, as Docker's
 * `State.OOMKilled` says.
 */
export async function* containerEvents(
  docker: Docker,
  homeLabel: string,
  signal: AbortSignal,
): AsyncIterable<RuntimeEvent> {
  // Seconds with a fraction: the engine takes nanosecond precision.
  const since = Date.now() / 1000;
  if (signal.aborted) return;
  let stream: Readable;
  try {
    stream = asReadable(
      await docker.getEvents({
        since,
        filters: {
          type: ['container'],
          event: ['start', 'die', 'oom'],
          label: [LABELS.instance, `${LABELS.home}=${homeLabel}`],
        },
        abortSignal: signal,
      }),
    );
  } catch (error) {
    if (signal.aborted) return;
    throw new DockerApiError(`cannot follow the engine's events: ${engineMessage(error)}`, {
      cause: error,
    });
  }
  const stop = (): void => {
    stream.destroy();
  };
  signal.addEventListener('abort', stop, { once: true });
  const oomKilled = new Set<string>();
  try {
    for await (const event of jsonLines(stream)) {
      const action = stringField(event, 'Action') ?? stringField(event, 'status');
      const container = stringField(field(event, 'Actor'), 'ID') ?? stringField(event, 'id');
      const attributes = attributesOf(event);
      const labels = ownerOf(attributes);
      if (container === undefined || labels === undefined) continue;
      const base = { id: instanceOf(attributes, labels), labels, at: timeOf(event) };
      if (action === 'oom') {
        oomKilled.add(container);
      } else if (action === 'start') {
        yield { type: 'start', ...base };
      } else if (action === 'die') {
        const code = Number(attributes['exitCode']);
        const status = exitStatus(
          Number.isInteger(code) ? code : null,
          oomKilled.delete(container),
        );
        yield { type: 'exit', ...base, ...status };
      }
    }
    // Ending quietly would let a watcher believe nothing more happens.
    if (!signal.aborted) {
      throw new DockerApiError('the engine ended its event stream (was it restarted?)');
    }
  } catch (error) {
    // Aborting tears the connection down under the reader: that is the end, not a failure.
    if (!signal.aborted) throw wrapEngineError("lost the engine's events", error);
  } finally {
    signal.removeEventListener('abort', stop);
    stream.destroy();
  }
}
