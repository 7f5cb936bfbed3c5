export { adminTokenPath, ensureAdminToken } from './admin-token.js';
export type { ApiLogEntry, ApiOptions } from './app.js';
export { createApi } from './app.js';
export type { ApiEnv, AuditEntry, AuditNote } from './auth.js';
export { auditEvent } from './auth.js';
export type { ErrorBody } from './errors.js';
export {
  ApiError,
  ConflictError,
  errorResponse,
  ForbiddenError,
  InvalidRequestError,
  ListenError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthenticatedError,
} from './errors.js';
export type { OpenApiDocument } from './openapi.js';
export { openApiDocument } from './openapi.js';
export type { Route, RouteDeps, RouteOutput } from './routes.js';
export { routes } from './routes.js';
export type { ApiServer, ListenOptions } from './server.js';
export { DEFAULT_API_HOST, DEFAULT_API_PORT, startApiServer } from './server.js';
export type { Role, TokenInfo } from './tokens.js';
export { roleAllows, roles, TokenStore } from './tokens.js';
