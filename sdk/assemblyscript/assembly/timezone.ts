// The `timezone` host interface with a friendly wrapper around the generated call
// (./generated/timezone.ts): UTC offsets from the host's time-zone database, so a component
// that works in local time carries none of its own. Kept out of "./host" so other components'
// bytes do not change; "./binding" re-exports it.
import { utcOffsetMinutes as hostUtcOffsetMinutes, UtcOffsetMinutesResult } from "./generated/timezone";

export { UtcOffsetMinutesResult } from "./generated/timezone";

/** Time zones from the host's database. Needs no grant. */
export namespace timezone {
  /**
   * Minutes east of UTC of local time in `zone` (an IANA name such as `Europe/Paris`, or
   * `UTC`) at `utcMs` (ms since the Unix epoch), in `value`: 120 for Paris in summer. `error`
   * is `invalid-argument` naming the zone when the host does not know it.
   */
  export function utcOffsetMinutes(zone: string, utcMs: u64): UtcOffsetMinutesResult {
    return hostUtcOffsetMinutes(zone, utcMs);
  }
}
