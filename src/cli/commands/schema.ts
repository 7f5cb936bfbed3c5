import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import type { Command } from 'commander';

import { errorCodes, templateJsonSchema } from '../../template/index.js';
import type { CliContext } from '../context.js';
import { exitCodes } from '../exit-codes.js';

export function schemaCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  program
    .command('schema')
    .description('print the JSON Schema of stack templates (for editors: yaml-language-server)')
    .option('--out <file>', 'write it to a file instead')
    .action((options: { out?: string }) => {
      const text = `${JSON.stringify(templateJsonSchema(), null, 2)}\n`;
      if (options.out) {
        mkdirSync(dirname(options.out), { recursive: true });
        writeFileSync(options.out, text);
      } else {
        ctx.stdout.write(text);
      }
      done(exitCodes.ok);
    });

  program
    .command('codes')
    .description('list the error codes of template validation')
    .action(() => {
      const width = Math.max(...Object.keys(errorCodes).map((c) => c.length));
      for (const [code, meaning] of Object.entries(errorCodes))
        ctx.stdout.write(`${code.padEnd(width)}  ${meaning}\n`);
      done(exitCodes.ok);
    });
}
