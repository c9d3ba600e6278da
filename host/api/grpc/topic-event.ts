// A CloudEvent as the Dapr protos carry it to an app (runtime.v1.TopicEventRequest), as
// daprd builds it: the envelope's fields, the data as bytes (`data_base64` decoded, a string
// as its UTF-8, anything else as its JSON), and every other attribute in `extensions`.
import type { PreparedMessage } from '../../building-blocks/pubsub/app-delivery.ts';
import type { CloudEvent } from '../../building-blocks/pubsub/cloud-event.ts';

const ENVELOPE_FIELDS: ReadonlySet<string> = new Set(['id', 'source', 'type', 'specversion', 'datacontenttype', 'data', 'data_base64']);

/** A google.protobuf.Value as proto-loader encodes it (keepCase: the oneof's proto names). */
type ProtoValue =
  | { null_value: 'NULL_VALUE' }
  | { number_value: number }
  | { string_value: string }
  | { bool_value: boolean }
  | { struct_value: { fields: Record<string, ProtoValue> } }
  | { list_value: { values: ProtoValue[] } };

function protoValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { null_value: 'NULL_VALUE' };
  if (typeof value === 'number') return { number_value: value };
  if (typeof value === 'boolean') return { bool_value: value };
  if (typeof value === 'string') return { string_value: value };
  if (Array.isArray(value)) return { list_value: { values: value.map(protoValue) } };
  if (typeof value === 'object') return { struct_value: { fields: protoFields(value as Record<string, unknown>) } };
  return { string_value: String(value) };
}

function protoFields(object: Record<string, unknown>): Record<string, ProtoValue> {
  const fields: Record<string, ProtoValue> = {};
  for (const [name, value] of Object.entries(object)) fields[name] = protoValue(value);
  return fields;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function dataOf(event: CloudEvent): Buffer {
  if (typeof event.data_base64 === 'string') return Buffer.from(event.data_base64, 'base64');
  if (event.data === undefined || event.data === null) return Buffer.alloc(0);
  if (typeof event.data === 'string') return Buffer.from(event.data, 'utf8');
  return Buffer.from(JSON.stringify(event.data));
}

/** The TopicEventRequest for a message of `pubsubName`/`topic`, routed to `path`. */
export function topicEventRequest(message: PreparedMessage, pubsubName: string, topic: string, path: string): object {
  const { event } = message;
  const extensions: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(event)) if (!ENVELOPE_FIELDS.has(name)) extensions[name] = value;
  return {
    id: text(event.id),
    source: text(event.source),
    type: text(event.type),
    spec_version: text(event.specversion),
    data_content_type: text(event.datacontenttype),
    data: dataOf(event),
    topic,
    pubsub_name: pubsubName,
    path,
    extensions: { fields: protoFields(extensions) },
  };
}
