import { z } from 'zod';

import type { ArtifactProperties } from './artifact.js';
import { artifactProperties } from './artifact.js';
import type { JobProperties } from './job.js';
import { jobProperties, jobSettings } from './job.js';
import type { RouteProperties } from './route.js';
import { routeProperties } from './route.js';
import type { ServiceProperties } from './service.js';
import { serviceProperties, serviceSettings } from './service.js';
import type {
  ConfigProperties,
  ConfigTemplateProperties,
  SecretProperties,
  VolumeProperties,
} from './storage.js';
import {
  configProperties,
  configTemplateProperties,
  secretProperties,
  volumeProperties,
} from './storage.js';

/** What attributes can be computed from: all known before anything runs. */
export interface AttributeContext {
  readonly stack: string;
  /** Where the proxy listens, e.g. http://127.0.0.1:8080 */
  readonly proxyUrl: string;
  /** $DROVER_HOME */
  readonly home: string;
}

export interface AttributeInput<P> {
  /** Qualified name: `web`, or `db.web` inside nested stack `db`. */
  readonly name: string;
  readonly properties: P;
  readonly revision: string;
}

export interface ResourceTypeDef<P = unknown> {
  readonly description: string;
  readonly schema: z.ZodType<P>;
  /** Top-level properties that change how Drover manages the resource, not what it is. */
  readonly settings: readonly string[];
  /** What a new revision means: new instances/content, or an in-place update. */
  readonly onRevisionChange: 'replace' | 'update';
  /** Properties that are always secret, whatever their source. */
  readonly secretProperties?: readonly string[];
  readonly attributes: Readonly<Record<string, string>>;
  attributeValues(input: AttributeInput<P>, ctx: AttributeContext): Record<string, unknown>;
}

function def<P>(d: ResourceTypeDef<P>): ResourceTypeDef<P> {
  return d;
}

interface ProxyParts {
  readonly url: string;
  readonly origin: string;
  readonly protocol: string;
  readonly port: string;
}

/** The last proxy URL parsed: every route's `url` attribute needs it, and it is nearly always the same. */
let lastProxy: ProxyParts | undefined;

function proxyParts(url: string): ProxyParts {
  if (lastProxy?.url !== url) {
    const { origin, protocol, port } = new URL(url);
    lastProxy = { url, origin, protocol, port };
  }
  return lastProxy;
}

function routeUrl(props: RouteProperties, proxyUrl: string): string {
  const proxy = proxyParts(proxyUrl);
  if (props.host === undefined) return `${proxy.origin}${props.path}`;
  const host = props.host.startsWith('*.') ? props.host.slice(2) : props.host;
  return `${proxy.protocol}//${host}${proxy.port ? `:${proxy.port}` : ''}${props.path}`;
}

/** Every resource type of the language, by name. */
export const resourceTypes = {
  'Drover::Artifact': def<ArtifactProperties>({
    description: 'An immutable, content-addressed build of a directory (or a Docker image)',
    schema: artifactProperties,
    // The path is where the content comes from, not what it is: moving it changes nothing.
    settings: ['build_timeout', 'context'],
    onRevisionChange: 'replace',
    attributes: { id: 'The content address of the artifact' },
    attributeValues: ({ revision }) => ({ id: revision }),
  }),
  'Drover::Service': def<ServiceProperties>({
    description: 'A replicated long-running workload',
    schema: serviceProperties,
    settings: serviceSettings,
    onRevisionChange: 'replace',
    attributes: {
      name: 'Qualified service name',
      revision: 'The revision instances run',
      replicas: 'Declared number of instances',
    },
    attributeValues: ({ name, revision, properties }) => ({
      name,
      revision,
      replicas: properties.replicas,
    }),
  }),
  'Drover::Job': def<JobProperties>({
    description: 'A run-to-completion workload, optionally on a cron schedule',
    schema: jobProperties,
    settings: jobSettings,
    onRevisionChange: 'replace',
    attributes: { name: 'Qualified job name', revision: 'The revision runs use' },
    attributeValues: ({ name, revision }) => ({ name, revision }),
  }),
  'Drover::Route': def<RouteProperties>({
    description: 'A proxy route to a service',
    schema: routeProperties,
    settings: [],
    onRevisionChange: 'update',
    attributes: { url: 'Where the route answers', host: 'Matched host', path: 'Matched path' },
    attributeValues: ({ properties }, ctx) => ({
      url: routeUrl(properties, ctx.proxyUrl),
      host: properties.host ?? '',
      path: properties.path,
    }),
  }),
  'Drover::Volume': def<VolumeProperties>({
    description: 'Durable data kept outside instances',
    schema: volumeProperties,
    settings: [],
    onRevisionChange: 'replace',
    attributes: { name: 'Qualified volume name', path: 'Directory holding the data' },
    attributeValues: ({ name }, ctx) => ({
      name,
      path: `${ctx.home}/volumes/${ctx.stack}/${name}`,
    }),
  }),
  'Drover::Config': def<ConfigProperties>({
    description: "A file's content mounted into instances",
    schema: configProperties,
    settings: [],
    onRevisionChange: 'replace',
    attributes: { revision: 'Content address of the config' },
    attributeValues: ({ revision }) => ({ revision }),
  }),
  'Drover::Secret': def<SecretProperties>({
    description: 'Like Config, encrypted at rest and never shown',
    schema: secretProperties,
    settings: [],
    onRevisionChange: 'replace',
    secretProperties: ['content'],
    attributes: { revision: 'Keyed digest of the secret' },
    attributeValues: ({ revision }) => ({ revision }),
  }),
  'Drover::ConfigTemplate': def<ConfigTemplateProperties>({
    description: 'A file rendered from the live registry on every change, then a reload',
    schema: configTemplateProperties,
    settings: ['debounce'],
    onRevisionChange: 'update',
    attributes: { destination: 'The rendered file' },
    attributeValues: ({ properties }) => ({ destination: properties.destination }),
  }),
} as const;

export type ResourceTypeName = keyof typeof resourceTypes;

export const resourceTypeNames = Object.keys(resourceTypes) as ResourceTypeName[];

export function isResourceType(name: string): name is ResourceTypeName {
  return Object.hasOwn(resourceTypes, name);
}

const compiledSchemas = new Map<ResourceTypeName, z.ZodType>();

/**
 * A type's property schema with zod's ahead-of-time compiled fast path
 * (`z.compile`): valid properties run generated code, about twice as fast as
 * the schema's own parser on a large stack; invalid ones fall back to that
 * parser, so the issues (and our messages) are the same. Compiled on first
 * use, not at import: it takes milliseconds, and most commands check none.
 */
export function compiledSchema(type: ResourceTypeName): z.ZodType {
  let schema = compiledSchemas.get(type);
  if (schema === undefined) {
    schema = z.compile(resourceTypes[type].schema as z.ZodType);
    compiledSchemas.set(type, schema);
  }
  return schema;
}

/** A nested stack is named by a relative path to its template. */
export function isNestedStackType(type: string): boolean {
  return /\.(ya?ml|json)$/i.test(type) && !type.startsWith('/') && !/^[a-z]+:/i.test(type);
}

export interface PropertiesByType {
  'Drover::Artifact': ArtifactProperties;
  'Drover::Service': ServiceProperties;
  'Drover::Job': JobProperties;
  'Drover::Route': RouteProperties;
  'Drover::Volume': VolumeProperties;
  'Drover::Config': ConfigProperties;
  'Drover::Secret': SecretProperties;
  'Drover::ConfigTemplate': ConfigTemplateProperties;
}

export type {
  ArtifactProperties,
  ConfigProperties,
  ConfigTemplateProperties,
  JobProperties,
  RouteProperties,
  SecretProperties,
  ServiceProperties,
  VolumeProperties,
};
