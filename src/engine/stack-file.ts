import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';

import { StackNameError } from './errors.js';

const STACK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const DEFAULT_FILES = ['stack.yaml', 'stack.yml', 'stack.json'];

/**
 * Which file a CLI argument means, and the stack's name: a directory means its
 * `stack.yaml`; the name is the file's base name, or the directory's name for
 * a file called `stack.*` — so `examples/hello` and
 * `examples/hello/stack.yaml` are both the stack `hello`.
 */
export function locateStack(arg: string, nameOverride?: string): { file: string; stack: string } {
  let file = arg;
  if (existsSync(arg) && statSync(arg).isDirectory()) {
    const found = DEFAULT_FILES.map((f) => join(arg, f)).find((f) => existsSync(f));
    if (found === undefined) {
      throw new StackNameError(`${arg} is a directory without ${DEFAULT_FILES.join(', ')}`);
    }
    file = found;
  }
  const base = basename(file, extname(file));
  const derived = base === 'stack' ? basename(dirname(resolve(file))) : base;
  const stack = (nameOverride ?? derived).toLowerCase();
  if (!STACK_NAME.test(stack)) {
    throw new StackNameError(
      `'${stack}' is not a valid stack name (lowercase letters, digits, '-' and '_', at most 63); choose one with --stack NAME`,
    );
  }
  return { file, stack };
}
