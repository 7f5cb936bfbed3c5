export { diffSpecs } from './diff.js';
export type { Change } from './diff.js';
export { planStack } from './plan.js';
export type { ActionKind, Plan, PlanAction } from './plan.js';
export { displayValue, planJson, redact, renderPlan } from './render.js';
export type { RenderOptions } from './render.js';
export { emptyState, recordStack } from './state.js';
export type { RecordedResource, RecordedState } from './state.js';
