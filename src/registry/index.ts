export type { RegisterOptions } from './registry.js';
export { applyUpdate, endpointKey, follow, Registry, routeKey } from './registry.js';
export type {
  Endpoint,
  EndpointKey,
  RegistryChange,
  RegistrySnapshot,
  RegistryUpdate,
  Route,
  RouteKey,
} from './types.js';
