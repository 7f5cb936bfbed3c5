import type { Command } from 'commander';

import type { Diagnostic, ParameterInput } from '../template/index.js';
import { loadParameterFile, parseParameterArgs } from '../template/index.js';

export interface ParameterOptions {
  readonly param?: readonly string[];
  readonly parameters?: readonly string[];
}

/** Values from --parameters files first, then -p: the command line has the last word. */
export function collectParameters(options: ParameterOptions): {
  inputs: ParameterInput[];
  diagnostics: Diagnostic[];
} {
  const byName = new Map<string, ParameterInput>();
  const diagnostics: Diagnostic[] = [];
  for (const file of options.parameters ?? []) {
    const loaded = loadParameterFile(file);
    diagnostics.push(...loaded.diagnostics);
    for (const input of loaded.inputs) byName.set(input.name, input);
  }
  const args = parseParameterArgs(options.param ?? []);
  diagnostics.push(...args.diagnostics);
  for (const input of args.inputs) byName.set(input.name, input);
  return { inputs: [...byName.values()], diagnostics };
}

export function repeatable(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * The template argument and the parameter options of every command that reads
 * a stack file; with `stackName`, also `--stack`.
 */
export function withStackFile(command: Command, options: { stackName: boolean }): Command {
  command
    .argument('<file>', 'stack template (YAML or JSON), or a directory with stack.yaml')
    .option('-p, --param <name=value>', 'a parameter value (repeatable)', repeatable)
    .option('--parameters <file>', 'a YAML/JSON file of parameter values (repeatable)', repeatable);
  if (options.stackName) {
    command.option('--stack <name>', "the stack's name (default: the file's base name)");
  }
  return command;
}
