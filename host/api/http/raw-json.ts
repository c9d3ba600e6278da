// Stored bytes as the `data` of a JSON answer, as daprd writes them (bulk get, query): raw
// when they are JSON text (what the HTTP API stores), else as a JSON string.
const decoder = new TextDecoder();

/** The JSON text to splice in as `data`. */
export function rawJsonData(bytes: Uint8Array): string {
  const text = decoder.decode(bytes);
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}
