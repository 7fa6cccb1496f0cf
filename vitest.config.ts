import { defineConfig } from 'vitest/config';

// The SDK warns once per process that its 2027 releases drop Node 20; set here (not test.env) so the
// global setup in this process and every worker inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Child processes rather than worker threads: native addons (sharp) are not reliably thread-safe to load
    // in several threads of one process.
    pool: 'forks',
    // Vitest runs a project's globalSetup only when at least one of its files is in the run, so putting the
    // emulators on the "integration" project alone means `vitest run test/unit` never starts a JVM.
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'cdk', include: ['test/cdk/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
