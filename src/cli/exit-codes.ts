/** The exit statuses of `drover`, documented in the README and in every command's help. */
export const exitCodes = {
  ok: 0,
  /** The operation ran and failed (e.g. a deploy that did not converge). */
  failed: 1,
  /** `drover drift` found drift: a finding, not a failure (as `git diff --exit-code`). */
  drifted: 1,
  /** The input is wrong: a template problem, a bad parameter, a bad flag. Nothing changed. */
  invalid: 2,
  /** Drover itself could not work: an unreadable store, a missing engine. */
  environment: 3,
} as const;

/** What each status means, for help texts (the README has the same table). */
export const exitCodeMeanings: readonly (readonly [number, string])[] = [
  [exitCodes.ok, 'success'],
  [exitCodes.failed, 'the operation ran and failed (e.g. a deploy that did not converge)'],
  [
    exitCodes.invalid,
    'invalid input: a template problem, a bad parameter or flag, an unknown stack; nothing changed',
  ],
  [
    exitCodes.environment,
    'Drover could not work: no daemon answers, a refused token, an address in use',
  ],
];

/** The exit status section of `--help`. */
export const exitCodeHelp = `
Exit status:
${exitCodeMeanings.map(([code, meaning]) => `  ${code}  ${meaning}`).join('\n')}`;
