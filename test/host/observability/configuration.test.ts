// Reading Dapr's Configuration for tracing and metrics, as a user writes it: `--config FILE`,
// or a `kind: Configuration` in a resources folder, or the OTEL_* environment; and every
// mistake refused with ERR_COMPONENT_CONFIG naming the file and the field.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfiguration, parseConfiguration as parseDocument } from '../../../host/configuration/dapr-configuration.ts';
import { observabilityConfig, tracingFromEnvironment } from '../../../host/observability/configuration.ts';
import { parseRunArgs } from '../../../host/cli/run-options.ts';
import { tempDir } from '../../support/temp-dir.ts';

/** The observability settings of one Configuration document. */
const parseConfiguration = (value: unknown, source: string) => observabilityConfig(parseDocument(value, source), {});
/** The observability settings of a start, read as `tessera run` reads them. */
const loadObservabilityConfig = async (configFile: string | undefined, resourcesPaths: string[], env: NodeJS.ProcessEnv) =>
  observabilityConfig(await loadConfiguration(configFile, resourcesPaths), env);

const doc = (spec: unknown): unknown => ({ apiVersion: 'dapr.io/v1alpha1', kind: 'Configuration', metadata: { name: 'tracing' }, spec });

describe('Dapr Configuration: tracing and metrics', () => {
  it('reads samplingRate, the OTLP endpoint, protocol, isSecure and headers', () => {
    const config = parseConfiguration(
      doc({ tracing: { samplingRate: '0.5', otel: { endpointAddress: 'collector:4318', isSecure: true, protocol: 'grpc', headers: 'api-key=s3cret,x=1' } }, metrics: { enabled: false } }),
      'config.yaml',
    );
    assert.deepEqual(config.tracing, { samplingRate: 0.5, endpoint: 'collector:4318', protocol: 'grpc', isSecure: true, headers: { 'api-key': 's3cret', x: '1' }, source: 'config.yaml' });
    assert.equal(config.metricsEnabled, false);
  });

  it('turns tracing off with samplingRate 0 or no tracing section', () => {
    assert.equal(parseConfiguration(doc({ tracing: { samplingRate: '0', otel: { endpointAddress: 'c:4318' } } }), 'c.yaml').tracing, undefined);
    assert.equal(parseConfiguration(doc({}), 'c.yaml').tracing, undefined);
  });

  it('refuses a bad rate, protocol or a missing endpoint, naming the file and the field', () => {
    assert.throws(() => parseConfiguration(doc({ tracing: { samplingRate: '2' } }), 'bad.yaml'), { code: 'ERR_COMPONENT_CONFIG', message: /bad\.yaml: spec\.tracing\.samplingRate must be a number from 0 to 1, got "2"/ });
    assert.throws(() => parseConfiguration(doc({ tracing: { samplingRate: '1', otel: { endpointAddress: 'c:1', protocol: 'zipkin' } } }), 'bad.yaml'), {
      code: 'ERR_COMPONENT_CONFIG',
      message: /bad\.yaml: invalid Configuration: spec\.tracing\.otel\.protocol: must be one of \["http","grpc"\]/,
    });
    assert.throws(() => parseConfiguration(doc({ tracing: { samplingRate: '1', otel: {} } }), 'bad.yaml'), { message: /endpointAddress/ });
  });

  it('takes tracing from OTEL_* when no Configuration says', () => {
    assert.equal(tracingFromEnvironment({}), undefined);
    assert.equal(tracingFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.deepEqual(tracingFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER_ARG: '0.25' }), {
      samplingRate: 0.25,
      endpoint: undefined,
      protocol: 'grpc',
      isSecure: false,
      headers: {},
      source: 'environment',
    });
  });

  it('finds a Configuration in a resources folder, or reads --config, which must hold one', async () => {
    const dir = await tempDir();
    try {
    await writeFile(join(dir.path, 'statestore.yaml'), 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: s\nspec:\n  type: state.memory\n  version: v1\n');
    await writeFile(join(dir.path, 'tracing.yaml'), 'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: t\nspec:\n  tracing:\n    samplingRate: "1"\n    otel:\n      endpointAddress: localhost:4318\n');
    const found = await loadObservabilityConfig(undefined, [dir.path], {});
    assert.equal(found.tracing?.endpoint, 'localhost:4318');
    assert.equal(found.tracing?.source, join(dir.path, 'tracing.yaml'));
    await assert.rejects(loadObservabilityConfig(join(dir.path, 'statestore.yaml'), [], {}), { code: 'ERR_COMPONENT_CONFIG', message: /statestore\.yaml: holds no `kind: Configuration` document/ });
    await assert.rejects(loadObservabilityConfig(join(dir.path, 'missing.yaml'), [], {}), { message: /missing\.yaml: cannot be read \(ENOENT\)/ });
    } finally {
      await dir.remove();
    }
  });

  it("parses daprd's metrics flags", () => {
    const base = ['--app-id', 'a'];
    assert.equal((parseRunArgs(base) as { metricsPort: number }).metricsPort, 9090);
    assert.equal((parseRunArgs([...base, '--metrics-port', '9999']) as { metricsPort: number }).metricsPort, 9999);
    assert.equal((parseRunArgs([...base, '--enable-metrics=false']) as { metricsPort: number | undefined }).metricsPort, undefined);
    assert.equal((parseRunArgs([...base, '--enable-metrics']) as { metricsPort: number }).metricsPort, 9090);
    assert.throws(() => parseRunArgs([...base, '--enable-metrics=no']), { message: /--enable-metrics must be true or false, as in --enable-metrics=false, got "no"/ });
    assert.throws(() => parseRunArgs([...base, '--metrics-port', '70000']), { message: /--metrics-port must be a port number/ });
  });
});
