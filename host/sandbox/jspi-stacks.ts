// The size of the native stack each JSPI call runs on. V8 gives every `WebAssembly.promising`
// call a stack of its own and keeps freed stacks for reuse only up to 4 MB in all: at its
// default size (984 KB) that is four, so once more than four calls are suspended at a time
// (a pool of instances under load, a few subscriptions waiting in a pull) nearly every call
// maps a fresh stack and unmaps another (mmap, page faults, madvise): 13–30 µs a call instead
// of 1.3 µs in `test/bench` terms, most of a state.redis request's CPU. At 256 KB, 15 stacks
// are kept. Component code keeps its own stack in linear memory; this one holds only wasm
// frames (thousands deep) and the host functions they call. The flag given to node itself
// (`node --wasm-stack-switching-stack-size=984 ...`) wins.
import { setFlagsFromString } from 'node:v8';

export const JSPI_STACK_KB = 256;

const FLAG = '--wasm-stack-switching-stack-size';
if (!process.execArgv.some((arg) => arg.startsWith(FLAG))) setFlagsFromString(`${FLAG}=${JSPI_STACK_KB}`);
