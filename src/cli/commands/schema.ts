import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import type { Command } from 'commander';

import { errorCodes, templateJsonSchema } from '../../template/index.js';
import type { CliContext } from '../context.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { printData, withOutputOption } from '../output.js';

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

  const codes = program.command('codes').description('list the error codes of template validation');
  withOutputOption(codes, 'the codes').action((options: OutputOptions) => {
    const list = Object.entries(errorCodes).map(([code, meaning]) => ({ code, meaning }));
    printData(ctx, options, list, () => {
      const width = Math.max(...list.map((c) => c.code.length));
      return list.map((c) => `${c.code.padEnd(width)}  ${c.meaning}\n`).join('');
    });
    done(exitCodes.ok);
  });
}
