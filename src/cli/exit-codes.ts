/** The exit statuses of `drover`, documented in the README. */
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
