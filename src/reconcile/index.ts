export type {
  Decision,
  InstanceView,
  OrphanView,
  ReconcileSettings,
  ReconcileView,
  ServiceView,
} from './decide.js';
export { decide, DEFAULT_SETTINGS, healAllowedAt, recentFailures } from './decide.js';
export type { DriftChange, DriftFinding, DriftReport, RenderedDrift } from './drift.js';
export { describeChange, diffFingerprint } from './drift.js';
