// The quick header check agrees with Node's own: every name and value it passes, Node's
// validators pass, and every one it fails, Node's fail (so callers that fall back to Node's
// checks for the message never refuse a header Node would send, nor send one Node refuses).
import assert from 'node:assert/strict';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { test } from 'node:test';
import { isPlainHeader } from '../../host/http-header-check.ts';

const nodeAccepts = (name: string, value: string): boolean => {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
};

test('isPlainHeader agrees with validateHeaderName and validateHeaderValue, character by character', () => {
  for (let code = 0; code < 0x300; code++) {
    const c = String.fromCharCode(code);
    for (const [name, value] of [[`x${c}`, 'v'], ['x', `a${c}b`], ['x', c]] as const) {
      assert.equal(isPlainHeader(name, value), nodeAccepts(name, value), `name ${JSON.stringify(name)} value ${JSON.stringify(value)}`);
    }
  }
  for (const [name, value] of [['', 'v'], ['x', ''], ['Content-Type', 'application/json; charset=utf-8'], ['a b', 'v'], ['x', 'line\r\nInjected: 1'], ['x', '😀']]) {
    assert.equal(isPlainHeader(name!, value!), nodeAccepts(name!, value!), `name ${JSON.stringify(name)} value ${JSON.stringify(value)}`);
  }
});
