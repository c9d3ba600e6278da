// Media-type tests as Dapr makes them (dapr/kit's contenttype package): the type compared
// case-insensitively, its parameters ignored. Shared by the pub/sub building block and the
// gRPC app channel, which both decide by them how an event's data is carried.

/** contrib's `isContentType`: the media type, case-insensitive, ignoring parameters. */
function isContentType(contentType: string | undefined, expected: string): boolean {
  if (contentType === undefined) return false;
  const lower = contentType.toLowerCase();
  const semicolon = lower.indexOf(';');
  return (semicolon >= 0 ? lower.slice(0, semicolon) : lower) === expected;
}

export const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json';

export const isCloudEventContentType = (ct: string | undefined): boolean => isContentType(ct, CLOUD_EVENT_CONTENT_TYPE);
export const isJsonContentType = (ct: string | undefined): boolean => isContentType(ct, 'application/json');
export const isBinaryContentType = (ct: string | undefined): boolean => isContentType(ct, 'application/octet-stream');
export const isStringContentType = (ct: string | undefined): boolean =>
  ct !== undefined && (ct.toLowerCase().startsWith('text/') || isContentType(ct, 'application/xml'));
