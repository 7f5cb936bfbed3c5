import type { Reporter, TestModule } from 'vitest/node';

/**
 * Under CI=true a skipped test is a failure: integration tests that skip when
 * Docker, root or a tool is missing would otherwise pass CI without testing
 * anything.
 */
export default class FailOnSkip implements Reporter {
  onTestRunEnd(modules: readonly TestModule[]): void {
    const skipped: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        if (test.result().state === 'skipped')
          skipped.push(`${module.moduleId} > ${test.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    process.stderr.write(
      `\nCI=true: ${skipped.length} skipped test(s) count as failures:\n${skipped.map((s) => `  - ${s}`).join('\n')}\n`,
    );
    process.exitCode = 1;
  }
}
