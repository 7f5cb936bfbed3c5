import { toDot } from './dot.js';
import type { StackGraph } from './graph.js';
import { toMermaid } from './mermaid.js';

/** The text formats a graph prints as (`drover graph --format`), chosen from a map. */
export const graphRenderers = { mermaid: toMermaid, dot: toDot } satisfies Record<
  string,
  (graph: StackGraph) => string
>;
export type GraphFormat = keyof typeof graphRenderers;
