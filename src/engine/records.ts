import type { RecordedResource, RecordedState } from '../plan/index.js';
import type { Store } from '../store/index.js';

/** Where a stack's applied state lives in the store. */
export const stackKeys = {
  resources: (stack: string) => `/stacks/${stack}/resources/`,
  resource: (stack: string, name: string) => `/stacks/${stack}/resources/${name}`,
  meta: (stack: string) => `/stacks/${stack}/meta`,
};

/** The recorded state of a stack (empty when it was never applied). */
export async function readRecordedState(store: Store, stack: string): Promise<RecordedState> {
  const prefix = stackKeys.resources(stack);
  const { kvs } = await store.range(prefix);
  const resources: Record<string, RecordedResource> = {};
  for (const kv of kvs)
    resources[kv.key.slice(prefix.length)] = JSON.parse(kv.value) as RecordedResource;
  const meta = await store.get(stackKeys.meta(stack));
  const templateHash = meta
    ? (JSON.parse(meta.value) as { templateHash?: string }).templateHash
    : undefined;
  return { stack, templateHash, resources };
}

/** Records a stack's state in one transaction: the planner's next baseline. */
export async function writeRecordedState(store: Store, state: RecordedState): Promise<void> {
  const existing = await store.range(stackKeys.resources(state.stack));
  const keep = new Set(Object.keys(state.resources).map((n) => stackKeys.resource(state.stack, n)));
  await store.txn({
    compare: [],
    success: [
      ...existing.kvs
        .filter((kv) => !keep.has(kv.key))
        .map((kv) => ({ type: 'delete' as const, key: kv.key })),
      ...Object.entries(state.resources).map(([name, r]) => ({
        type: 'put' as const,
        key: stackKeys.resource(state.stack, name),
        value: JSON.stringify(r),
      })),
      {
        type: 'put',
        key: stackKeys.meta(state.stack),
        value: JSON.stringify({ templateHash: state.templateHash }),
      },
    ],
  });
}
