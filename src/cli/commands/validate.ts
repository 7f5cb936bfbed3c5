import type { Command } from 'commander';

import { locateStack, validateStack } from '../../engine/index.js';
import { formatDiagnostic, sortDiagnostics } from '../../template/index.js';
import type { CliContext } from '../context.js';
import { droverHome } from '../context.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { formatData, outputFormat, withOutputOption } from '../output.js';
import type { ParameterOptions } from '../parameters.js';
import { collectParameters, withStackFile } from '../parameters.js';

type ValidateOptions = ParameterOptions & OutputOptions;

export function validateCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = withStackFile(
    program
      .command('validate')
      .description(
        'check a stack template: every problem at once, as FILE:LINE:COL: error CODE: message',
      ),
    { stackName: false },
  );
  withOutputOption(command, 'the result').action(async (arg: string, options: ValidateOptions) => {
    const { file, stack } = locateStack(arg);
    const params = collectParameters(options);
    const result = await validateStack({
      file,
      stack,
      parameters: params.inputs,
      home: droverHome(ctx, program.opts()),
    });
    const diagnostics = sortDiagnostics([...params.diagnostics, ...result.diagnostics]);
    const format = outputFormat(options);
    if (format !== 'table') {
      const data = {
        file,
        valid: diagnostics.length === 0,
        requiredParameters: result.requiredParameters,
        diagnostics: diagnostics.map((d) => ({
          ...d.loc,
          source: d.source,
          code: d.code,
          message: d.message,
        })),
      };
      ctx.stdout.write(formatData(format, data));
    } else {
      for (const d of diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
      if (diagnostics.length === 0) {
        ctx.stdout.write(`${file}: valid\n`);
        ctx.stdout.write(
          result.requiredParameters.length === 0
            ? 'Every parameter has a default.\n'
            : `Required parameters (no default): ${result.requiredParameters.join(', ')}\n`,
        );
      } else {
        ctx.stderr.write(
          `${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'} found.\n`,
        );
      }
    }
    done(diagnostics.length === 0 ? exitCodes.ok : exitCodes.invalid);
  });
}
