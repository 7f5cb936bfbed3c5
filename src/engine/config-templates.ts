import { isAbsolute, resolve } from 'node:path';

import type { RenderedDrift } from '../reconcile/index.js';
import type { Registry } from '../registry/index.js';
import { ConfigTemplateRenderer } from '../render/index.js';
import type { ResolvedResourceOf } from '../template/index.js';

import type { NewEvent } from './events.js';

/**
 * The config templates the daemon keeps rendered: one renderer per
 * `Drover::ConfigTemplate` resource, replaced when the resource changes and
 * closed when it leaves. Their outcomes become engine events.
 */
export class ConfigTemplates {
  private readonly renderers = new Map<
    string,
    {
      renderer: ConfigTemplateRenderer;
      revision: string;
      stop: AbortController;
      destination: string;
    }
  >();

  constructor(
    private readonly options: {
      registry: Registry;
      home: string;
      record: (event: NewEvent) => void;
    },
  ) {}

  async set(stack: string, resource: ResolvedResourceOf<'Drover::ConfigTemplate'>): Promise<void> {
    const key = `${stack}/${resource.name}`;
    const existing = this.renderers.get(key);
    if (existing?.revision === resource.revision) return;
    await this.remove(stack, resource.name);
    const p = resource.properties;
    const destination = isAbsolute(p.destination)
      ? p.destination
      : resolve(resource.dir, p.destination);
    const renderer = new ConfigTemplateRenderer({
      registry: this.options.registry,
      stack,
      name: resource.name,
      template: p.template ?? '',
      destination,
      ...(p.service === undefined ? {} : { service: p.service }),
      ...(p.reload === undefined ? {} : { reload: p.reload }),
      debounceMs: p.debounce,
    });
    const stop = new AbortController();
    this.renderers.set(key, { renderer, revision: resource.revision, stop, destination });
    void (async () => {
      for await (const event of renderer.events(stop.signal)) {
        if (event.type === 'rendered' || event.type === 'reloaded') {
          this.options.record({
            type: 'config.rendered',
            stack,
            resource: resource.name,
            message: `${destination}: ${event.type}`,
            data: { revision: event.revision },
          });
        } else if (event.type === 'failed') {
          this.options.record({
            type: 'config.failed',
            stack,
            resource: resource.name,
            message: `${destination}: ${event.phase} failed: ${event.error} (retry in ${event.retryInMs} ms)`,
          });
        }
      }
    })().catch(() => undefined);
    renderer.start(stop.signal);
  }

  async remove(stack: string, name: string): Promise<void> {
    const key = `${stack}/${name}`;
    const existing = this.renderers.get(key);
    if (existing === undefined) return;
    this.renderers.delete(key);
    existing.stop.abort();
    await existing.renderer.close();
  }

  /** Rendered files whose content is no longer what Drover wrote (changed by hand, or deleted). */
  async drift(): Promise<RenderedDrift[]> {
    const out: RenderedDrift[] = [];
    const at = new Date().toISOString();
    for (const [key, { renderer, destination }] of this.renderers) {
      const kind = await renderer.drift();
      if (kind === undefined) continue;
      const [stack, ...rest] = key.split('/');
      out.push({
        stack: stack as string,
        resource: rest.join('/'),
        path: destination,
        kind,
        detectedAt: at,
      });
    }
    return out;
  }

  async close(): Promise<void> {
    for (const key of [...this.renderers.keys()]) {
      const [stack, ...rest] = key.split('/');
      await this.remove(stack as string, rest.join('/'));
    }
  }
}
