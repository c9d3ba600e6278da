// A retry policy's `matching` lists, as Dapr writes them: codes and inclusive ranges separated
// by commas (`429,500-599`; gRPC `1-4,8-11,13,14`), each within the protocol's codes.
export type StatusCodes = ReadonlySet<number>;

/** The codes of `text`, each within `[min, max]`, or an Error naming the first bad entry. */
export function parseStatusCodes(text: string, [min, max]: [number, number]): StatusCodes | Error {
  const codes = new Set<number>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^(\d{1,3})(?:-(\d{1,3}))?$/.exec(entry);
    const from = m === null ? NaN : Number(m[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!(from >= min && to <= max && from <= to)) return new Error(`"${entry.slice(0, 20)}" is not a code or a range of codes from ${min} to ${max}`);
    for (let code = from; code <= to; code++) codes.add(code);
  }
  return codes;
}
