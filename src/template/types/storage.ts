import { z } from 'zod';

import { duration } from '../units.js';

import { argv, refTo } from './common.js';

export const volumeProperties = z.strictObject({});

export const configProperties = z.strictObject({
  content: z.string().meta({ description: 'The file content mounted into instances' }),
});

export const secretProperties = z.strictObject({
  content: z.string().meta({ description: 'Secret content; encrypted at rest, never shown' }),
});

export const configTemplateProperties = z
  .strictObject({
    template: z.string().optional().meta({ description: 'A Handlebars template' }),
    template_file: z
      .string()
      .optional()
      .meta({ description: 'A Handlebars template file, relative to the stack template' }),
    destination: z.string().min(1).meta({ description: 'The file to write' }),
    service: refTo('Drover::Service').optional(),
    reload: argv.optional().meta({ description: 'Run after the file changed (argv)' }),
    debounce: duration.prefault('200ms'),
  })
  .superRefine((t, ctx) => {
    if ((t.template === undefined) === (t.template_file === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a ConfigTemplate needs exactly one of template or template_file',
        params: { code: t.template === undefined ? 'REQUIRED' : 'INVALID_VALUE' },
      });
    }
  });

export type VolumeProperties = z.output<typeof volumeProperties>;
export type ConfigProperties = z.output<typeof configProperties>;
export type SecretProperties = z.output<typeof secretProperties>;
export type ConfigTemplateProperties = z.output<typeof configTemplateProperties>;
