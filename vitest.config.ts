import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers and peers; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // Every `serve` child a test starts is one process unless the test asks for workers (issue 16's
    // default is one per core: on 2 shared cores, three processes per child starve the suite).
    env: { POLYPROV_WORKERS: '1' },
    reporters: ['default'],
  },
});
