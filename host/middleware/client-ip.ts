// The client address a rate limit counts against, found as components-contrib's ratelimit
// middleware finds it through tollbooth v7: the lookups RemoteAddr, X-Forwarded-For (its last
// entry), X-Real-IP, in that order, the first that gives one winning; none gives "0.0.0.0".
// The TCP peer's address is always there, so the forwarding headers are read only for a
// request whose socket has already gone: a client cannot escape its limit by sending them. An
// IPv6 address counts as its /64 (one host holds a whole /64), an IPv4-mapped one as IPv4.

/** Longest header value looked at: an address is short, and a hostile header is not parsed at length. */
const MAX_HEADER = 256;

function lastForwardedFor(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.at(-1) : value;
  if (text === undefined || text.trim() === '') return undefined;
  return text.slice(-MAX_HEADER).split(',').at(-1)!.trim() || undefined;
}

function headerOf(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.slice(0, MAX_HEADER).trim();
}

/** An IPv6 address's first four groups (its /64), or the address as it is when not IPv6. */
function canonical(ip: string): string {
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice(7);
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.split('::', 2) as [string, string | undefined];
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => (g === '' ? '0' : g.toLowerCase().replace(/^0+(?=.)/, '')))
    .join(':')}::`;
}

/** The address a request is counted against. */
export function clientAddress(remoteAddress: string | undefined, headers: Readonly<Record<string, string | string[] | undefined>>): string {
  const ip = remoteAddress || lastForwardedFor(headers['x-forwarded-for']) || headerOf(headers['x-real-ip']) || '0.0.0.0';
  return canonical(ip);
}
