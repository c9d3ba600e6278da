// `--log-as-json` lines carry daprd's fields, so log pipelines built for Dapr read them.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { it } from 'node:test';
import { createLogger } from '../../../host/observability/logger.ts';
import { RUNTIME_VERSION } from '../../../host/version.ts';

it("writes daprd's JSON log fields: time, level, type, msg, scope, app_id, instance, ver", () => {
  const lines: string[] = [];
  createLogger({ level: 'info', json: true, appId: 'orders', write: (l) => lines.push(l) }).child('http').info('listening', { port: 3500 });
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(
    { ...line, time: undefined },
    { time: undefined, level: 'info', type: 'log', msg: 'listening', scope: 'tessera.http', app_id: 'orders', instance: hostname(), ver: RUNTIME_VERSION, port: 3500 },
  );
});
