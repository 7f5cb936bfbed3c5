import { z } from 'zod';

import { duration } from '../units.js';

import { argv } from './common.js';

export const artifactProperties = z.strictObject({
  context: z
    .string()
    .min(1)
    .meta({ description: "Directory with the artifact's files, relative to the template" }),
  build: argv
    .optional()
    .meta({ description: 'A build step run in a scratch copy of the context (argv)' }),
  dockerfile: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'A Dockerfile inside the context; makes the artifact a Docker image' }),
  build_timeout: duration.prefault('10m').meta({ description: 'Time limit of the build step' }),
});

export type ArtifactProperties = z.output<typeof artifactProperties>;
