import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { DroverError } from '../errors.js';
import type { Registry, RegistrySnapshot } from '../registry/index.js';
import { follow } from '../registry/index.js';

import { readCurrent, removeStaleTemps, writeFileAtomic } from './atomic-write.js';
import type { CompiledTemplate } from './compile.js';
import { compileTemplate } from './compile.js';
import { renderContext } from './context.js';
import {
  reasonOf,
  RegistryFollowError,
  ReloadError,
  RendererOptionsError,
  RendererStateError,
} from './errors.js';
import type { RenderEvent, RenderPhase } from './events.js';
import { Feed } from './feed.js';
import { runReload } from './reload.js';
import type { RetryPolicy } from './trigger.js';
import { backoffMs, Trigger } from './trigger.js';

export interface ConfigTemplateRendererOptions {
  readonly registry: Registry;
  readonly stack: string;
  /** The ConfigTemplate resource's qualified name (carried in events). */
  readonly name: string;
  /** Handlebars text (a `template_file` is already read into this). */
  readonly template: string;
  readonly destination: string;
  /** Qualified service name: `endpoints` in the template are this service's. */
  readonly service?: string;
  /** Run (argv, no shell) after the destination changed. */
  readonly reload?: readonly string[];
  /** Quiet time after a change before rendering, so a burst renders once. */
  readonly debounceMs: number;
  /** Default 30 s. */
  readonly reloadTimeoutMs?: number;
  /** Backoff between failed attempts. Default 500 ms doubling up to 30 s. */
  readonly retry?: RetryPolicy;
}

const DEFAULT_RELOAD_TIMEOUT_MS = 30_000;
const DEFAULT_RETRY: RetryPolicy = { initialMs: 500, maxMs: 30_000 };

/**
 * Keeps one file rendered from the live registry (the docker-gen pattern):
 * follows the stack's endpoints and routes; on each change (debounced)
 * renders the template, writes the destination atomically when the text
 * differs, then runs the reload command. Failures are events and are retried
 * with backoff; a later success clears them.
 *
 * The reload runs when the file was written, and also when the text is the
 * same as on disk but was never reloaded successfully by this renderer: after
 * a reload that failed, and once at start, since a previous Drover may have
 * died between writing and reloading.
 */
export class ConfigTemplateRenderer {
  readonly #options: ConfigTemplateRendererOptions;
  readonly #template: CompiledTemplate;
  readonly #retry: RetryPolicy;
  readonly #feed = new Feed<RenderEvent>();
  readonly #stop = new AbortController();
  readonly #trigger: Trigger;
  #latest: RegistrySnapshot | undefined;
  /** sha256 of the text the destination last held when this renderer wrote or checked it. */
  #written: string | undefined;
  /** sha256 of the text the reload command last succeeded for. */
  #reloaded: string | undefined;
  #failures = 0;
  #tempsChecked = false;
  #following: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** Throws TemplateSyntaxError for a broken template and RendererOptionsError for bad options. */
  constructor(options: ConfigTemplateRendererOptions) {
    checkOptions(options);
    this.#options = options;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#template = compileTemplate(options.template);
    this.#trigger = new Trigger(() => this.#attempt(), options.debounceMs);
  }

  /** Starts following the registry; aborting `signal` is the same as `close()`. */
  start(signal?: AbortSignal): void {
    if (this.#following !== undefined || this.#closing !== undefined) {
      throw new RendererStateError(`renderer ${this.#options.name} was already started or closed`);
    }
    if (signal?.aborted) {
      void this.close();
      return;
    }
    signal?.addEventListener('abort', () => void this.close(), { once: true });
    this.#following = this.#follow();
  }

  /** Events from now on, until `signal` aborts or the renderer closes. */
  events(signal?: AbortSignal): AsyncIterableIterator<RenderEvent> {
    return this.#feed.subscribe(signal);
  }

  /**
   * Stops following, cancels pending renders and retries, kills a running
   * reload, and settles once nothing of the renderer is left running.
   */
  /**
   * Whether the destination still holds what this renderer last wrote:
   * `changed` or `deleted` when someone else changed it (drift), undefined
   * when it does or nothing was written yet.
   */
  async drift(): Promise<'changed' | 'deleted' | undefined> {
    const written = this.#written;
    if (written === undefined) return undefined;
    const current = await readCurrent(this.#options.destination);
    if (current === undefined) return 'deleted';
    return createHash('sha256').update(current).digest('hex') === written ? undefined : 'changed';
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      this.#trigger.close();
      await this.#following;
      await this.#trigger.idle();
      this.#feed.close();
    })();
    return this.#closing;
  }

  async #follow(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const { registry, stack } = this.#options;
        for await (const snapshot of follow(registry, { stack, signal })) {
          failures = 0;
          this.#latest = snapshot;
          this.#trigger.changed();
        }
        if (signal.aborted) return;
        throw new Error('the watch ended (was the store closed?)');
      } catch (error) {
        if (signal.aborted) return;
        failures += 1;
        const retryInMs = backoffMs(failures, this.#retry);
        this.#publishFailure('registry', new RegistryFollowError({ cause: error }), {
          revision: this.#latest?.revision ?? 0,
          attempt: failures,
          retryInMs,
        });
        await sleep(retryInMs, undefined, { signal }).catch((aborted: unknown) => {
          if (!signal.aborted) throw aborted;
        });
      }
    }
  }

  /** One render → write → reload; reports its own failures and schedules the retry. */
  async #attempt(): Promise<void> {
    const snapshot = this.#latest;
    if (snapshot === undefined || this.#stop.signal.aborted) return;
    const { destination, reload, service, stack } = this.#options;
    const revision = snapshot.revision;

    let text: string;
    try {
      text = this.#template(renderContext(snapshot, stack, service));
    } catch (error) {
      return this.#failed('render', error, { revision });
    }
    const sha256 = createHash('sha256').update(text).digest('hex');

    try {
      if (!this.#tempsChecked) {
        await removeStaleTemps(destination);
        this.#tempsChecked = true;
      }
      if ((await readCurrent(destination)) === text) {
        this.#written = sha256;
        this.#publish({ type: 'unchanged', revision, sha256 });
      } else {
        // Whatever the target last loaded, the file now differs from it.
        this.#reloaded = undefined;
        await writeFileAtomic(destination, text);
        this.#written = sha256;
        this.#publish({ type: 'rendered', revision, sha256, bytes: Buffer.byteLength(text) });
      }
    } catch (error) {
      return this.#failed('write', error, { revision, sha256 });
    }

    if (reload !== undefined && this.#reloaded !== sha256) {
      try {
        const output = await runReload(reload, {
          timeoutMs: this.#options.reloadTimeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS,
          signal: this.#stop.signal,
        });
        this.#reloaded = sha256;
        this.#publish({ type: 'reloaded', revision, sha256, output });
      } catch (error) {
        return this.#failed('reload', error, { revision, sha256 });
      }
    }
    this.#failures = 0;
  }

  #failed(phase: RenderPhase, error: unknown, at: { revision: number; sha256?: string }): void {
    if (this.#stop.signal.aborted) return;
    this.#failures += 1;
    const retryInMs = backoffMs(this.#failures, this.#retry);
    this.#publishFailure(phase, error, { ...at, attempt: this.#failures, retryInMs });
    this.#trigger.retryIn(retryInMs);
  }

  #publishFailure(
    phase: RenderPhase,
    error: unknown,
    details: { revision: number; sha256?: string; attempt: number; retryInMs: number },
  ): void {
    const output = error instanceof ReloadError ? error.output : undefined;
    this.#publish({
      type: 'failed',
      phase,
      code: error instanceof DroverError ? error.code : 'RENDER_UNEXPECTED',
      error: reasonOf(error),
      ...(output === undefined ? {} : { output }),
      ...details,
    });
  }

  #publish(event: DistributiveOmit<RenderEvent, 'name' | 'destination'>): void {
    const { name, destination } = this.#options;
    this.#feed.publish({ name, destination, ...event });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function checkOptions(options: ConfigTemplateRendererOptions): void {
  const problems: string[] = [];
  const nonNegative = (value: number | undefined, what: string, positive = false) => {
    if (value !== undefined && !(Number.isFinite(value) && (positive ? value > 0 : value >= 0))) {
      problems.push(`${what} must be a ${positive ? 'positive' : 'non-negative'} number of ms`);
    }
  };
  nonNegative(options.debounceMs, 'debounceMs');
  nonNegative(options.reloadTimeoutMs, 'reloadTimeoutMs', true);
  nonNegative(options.retry?.initialMs, 'retry.initialMs', true);
  nonNegative(options.retry?.maxMs, 'retry.maxMs', true);
  if (options.retry !== undefined && options.retry.maxMs < options.retry.initialMs) {
    problems.push('retry.maxMs must be at least retry.initialMs');
  }
  if (options.reload?.length === 0) problems.push('reload must name at least the program to run');
  if (options.destination === '') problems.push('destination must not be empty');
  if (problems.length > 0) {
    throw new RendererOptionsError(`ConfigTemplate ${options.name}: ${problems.join('; ')}`);
  }
}
