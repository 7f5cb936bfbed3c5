export type { DockerRuntimeOptions } from './docker-runtime.js';
export { createDockerRuntime } from './docker-runtime.js';
export {
  BuildFailedError,
  DockerApiError,
  InstanceNotFoundError,
  InvalidSpecError,
  RuntimeClosedError,
  RuntimeError,
  RuntimeUnavailableError,
  StartError,
} from './errors.js';
export { LABELS as DOCKER_LABELS } from './labels.js';
