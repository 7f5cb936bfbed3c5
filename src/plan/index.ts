export type { Change } from './diff.js';
export { diffSpecs } from './diff.js';
export type { ActionKind, Plan, PlanAction } from './plan.js';
export { planStack } from './plan.js';
export type { RenderOptions } from './render.js';
export { displayValue, planJson, redact, renderPlan } from './render.js';
export type { RecordedResource, RecordedState } from './state.js';
export { emptyState, recordStack } from './state.js';
