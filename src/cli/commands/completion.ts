import type { Command } from 'commander';
import { Argument } from 'commander';

import { shells } from '../completion.js';
import type { CliContext } from '../context.js';
import { exitCodes } from '../exit-codes.js';

export function completionCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  program
    .command('completion')
    .description('print a shell completion script (e.g. source <(drover completion bash))')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(Object.keys(shells)))
    .action((shell: keyof typeof shells) => {
      // Generated from the commands as registered: it knows every command and option there is.
      ctx.stdout.write(shells[shell](program));
      done(exitCodes.ok);
    });
}
