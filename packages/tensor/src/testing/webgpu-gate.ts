import { describe, it } from 'vitest';
import { NO_ADAPTER_HELP, probeWebGPU } from '../backends/webgpu/index.js';

/**
 * The one rule every WebGPU test file follows: with an adapter, `declare` defines the tests;
 * without one they are skipped with a loud banner (and how to get an adapter), except under
 * `CI=true`, where a missing adapter is a failing test — CI installs lavapipe, so no adapter there
 * means a broken setup, never a silent pass.
 */
export async function withWebGPU(what: string, declare: () => void | Promise<void>): Promise<void> {
  const probe = await probeWebGPU();
  if (probe.ok) {
    await declare();
    return;
  }
  if (process.env.CI === 'true') {
    describe(what, () => {
      it('has a WebGPU adapter (required when CI=true)', () => {
        throw new Error(`no WebGPU adapter in CI: ${probe.reason}`);
      });
    });
    return;
  }
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\n!! ${what.toUpperCase()} SKIPPED: no WebGPU adapter.\n!! ${probe.reason.split('\n')[0]}\n${NO_ADAPTER_HELP}\n${bar}\n`);
  describe.skip(`${what} (no adapter)`, () => {
    it('needs an adapter', () => undefined);
  });
}
