export { toDot } from './dot.js';
export type {
  GraphEdge,
  GraphNode,
  GraphResource,
  HealthState,
  InstanceFacts,
  NodeHealth,
  ServiceFacts,
  StackGraph,
} from './graph.js';
export { buildGraph, nodeHealth } from './graph.js';
export { mermaidIds, toMermaid } from './mermaid.js';
export { healthColors } from './palette.js';
export type { GraphFormat } from './render.js';
export { graphRenderers } from './render.js';
