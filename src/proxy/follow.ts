import type { Registry } from '../registry/index.js';
import { follow } from '../registry/index.js';

import type { Proxy } from './proxy.js';

/**
 * Keeps a proxy's routes and pools equal to the registry: the current
 * picture first, then every change, until the signal aborts. Resolves once
 * the first picture is in place; `done` settles when following stops.
 */
export async function followRegistry(
  proxy: Proxy,
  registry: Registry,
  options: { stack?: string; signal?: AbortSignal } = {},
): Promise<{ done: Promise<void> }> {
  const pictures = follow(registry, options)[Symbol.asyncIterator]();
  const first = await pictures.next();
  if (!first.done) proxy.update(first.value);
  const done = (async () => {
    for (;;) {
      const next = await pictures.next();
      if (next.done) return;
      proxy.update(next.value);
    }
  })();
  return { done };
}
