// `random`: cryptographically secure bytes, bounded per call so a request cannot make the
// host allocate without limit.
import { randomBytes } from 'node:crypto';
import { TesseraError } from '../../errors.ts';
import type { Capability } from './capability.ts';

const MAX_BYTES = 65536;

export const randomCapability: Capability = {
  interface: 'random',
  async: new Set(),
  build({ component }) {
    return {
      'get-random-bytes'(len: number) {
        if (len > MAX_BYTES) {
          throw new TesseraError('ERR_COMPONENT_TRAP', `component "${component}" asked random for ${len} bytes; at most ${MAX_BYTES} per call`);
        }
        return new Uint8Array(randomBytes(len));
      },
    };
  },
};
