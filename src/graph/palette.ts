import type { HealthState } from './graph.js';

/** One palette for every picture of a graph (the dashboard's CSS uses the same hues). */
export const healthColors: Record<HealthState, { fill: string; stroke: string; text: string }> = {
  healthy: { fill: '#dcfce7', stroke: '#15803d', text: '#14532d' },
  unhealthy: { fill: '#fee2e2', stroke: '#b91c1c', text: '#7f1d1d' },
  starting: { fill: '#fef9c3', stroke: '#a16207', text: '#713f12' },
  deploying: { fill: '#dbeafe', stroke: '#1d4ed8', text: '#1e3a8a' },
};
