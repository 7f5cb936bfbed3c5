import type { Runtime } from '../runtime/index.js';

import type { DeployContext } from './deploy/types.js';
import type { InstanceRecord } from './state.js';

/**
 * An instance that no longer runs leaves every book: the registry, its
 * record (and fingerprint), its port and its mounts. The runtime is told
 * too, so that what is left of it (an exited container) goes.
 */
export async function forgetInstance(
  ctx: Pick<DeployContext, 'registry' | 'instances' | 'ports' | 'unmount'>,
  record: InstanceRecord,
  runtime?: Runtime,
): Promise<void> {
  await ctx.registry.deregister({
    stack: record.stack,
    service: record.service,
    instance: record.id,
  });
  if (runtime !== undefined && record.handle !== undefined)
    await runtime.stop(record.handle, { graceMs: 1000 });
  await ctx.instances.remove(record);
  await ctx.ports.release(record.port, record.id);
  await ctx.unmount(record.id);
}
