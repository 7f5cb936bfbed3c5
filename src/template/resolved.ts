import type { Diagnostic, Loc } from './errors.js';
import type { PropertiesByType, ResourceTypeName } from './types/index.js';
import type { Json, Path } from './values.js';

interface ResolvedBase {
  /** Qualified name: `web`, or `db.web` for resource `web` of nested stack `db`. */
  readonly name: string;
  /**
   * The resolved properties as recorded and compared: defaults applied,
   * units normalised, hidden values replaced by keyed digests, references to
   * what a workload runs (artifact, configs, secrets, volumes) as
   * `{ $ref, revision }`. Never contains a secret.
   */
  readonly spec: { readonly [key: string]: Json };
  /** sha256 of the canonical form of what the resource is/runs (the spec minus its settings). */
  readonly revision: string;
  readonly dependsOn: readonly string[];
  readonly deletionPolicy: 'delete' | 'retain';
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Where paths in the properties are relative to: the declaring template's directory. */
  readonly dir: string;
  readonly loc: Loc;
  /** Paths (in properties) of values derived from hidden parameters or secrets. */
  readonly hidden: readonly Path[];
}

export type ResolvedResourceOf<T extends ResourceTypeName> = ResolvedBase & {
  readonly type: T;
  /** Typed properties with hidden values in clear, for the engine only. */
  readonly properties: PropertiesByType[T];
};

export type ResolvedResource = { [T in ResourceTypeName]: ResolvedResourceOf<T> }[ResourceTypeName];

export interface ResolvedParameter {
  readonly name: string;
  readonly type: string;
  readonly hidden: boolean;
  /** The value, or a keyed digest when hidden; null when not known (validation). */
  readonly value: Json;
  readonly required: boolean;
  readonly description?: string;
}

export interface ResolvedOutput {
  readonly name: string;
  readonly description?: string;
  /** The value; hidden parts as '(hidden)'. */
  readonly value: Json;
}

/** A stack with every function evaluated and every condition applied. */
export interface ResolvedStack {
  readonly name: string;
  readonly file: string;
  /** sha256 over the template and its nested templates. */
  readonly templateHash: string;
  readonly description?: string;
  readonly parameters: readonly ResolvedParameter[];
  /** In dependency order: every resource comes after what it depends on. */
  readonly resources: readonly ResolvedResource[];
  readonly outputs: readonly ResolvedOutput[];
}

export interface ResolveResult {
  /** Present when resolution succeeded (no diagnostics). */
  readonly stack?: ResolvedStack;
  readonly diagnostics: readonly Diagnostic[];
  /** Parameters without a default (what `validate` lists). */
  readonly requiredParameters: readonly string[];
}
