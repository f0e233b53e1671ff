import type * as Fs from 'node:fs';
import type * as Path from 'node:path';
import type * as Crypto from 'node:crypto';
import { SafetensorsError } from './safetensors-error.js';

const nodeProcess = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;

function builtin<T>(id: string): T {
  const m = nodeProcess?.getBuiltinModule?.(id) as T | undefined;
  if (!m) {
    throw new SafetensorsError('IO', `reading or writing files needs Node.js (${id}); in a browser use SafetensorsFile.fromBytes / encodeSafetensors`);
  }
  return m;
}

/**
 * Node's `fs`, `path` and `crypto`, loaded on first use rather than imported, so the engine
 * (and `SafetensorsFile.fromBytes` / `encodeSafetensors`) also load in a browser.
 */
export const node = {
  get fs(): typeof Fs {
    return builtin<typeof Fs>('node:fs');
  },
  get path(): typeof Path {
    return builtin<typeof Path>('node:path');
  },
  get crypto(): typeof Crypto {
    return builtin<typeof Crypto>('node:crypto');
  },
};
