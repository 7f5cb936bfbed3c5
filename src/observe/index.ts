export type {
  DaemonLog,
  DaemonLogOptions,
  LogDestination,
  LoggedEvent,
  LogLevel,
  RequestEntry,
} from './log.js';
export {
  createDaemonLog,
  eventLevel,
  isLogLevel,
  LOG_LEVELS,
  logEvent,
  logRequest,
} from './log.js';
export type {
  InstanceSample,
  MetricsOptions,
  MetricsSources,
  ObservedEvent,
  ObservedRuntimeEvent,
} from './metrics.js';
export { DroverMetrics } from './metrics.js';
