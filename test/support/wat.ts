// Compiles WAT text to wasm bytes for test fixtures, through wabt.
import wabtInit from 'wabt';

const wabt = await wabtInit();

export function wat(text: string, features: Record<string, boolean> = {}): Uint8Array {
  const module = wabt.parseWat('fixture.wat', text, features);
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
