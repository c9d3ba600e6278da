// bindings.cron: an input binding that fires on a schedule, as Dapr's does. Each `read`
// sleeps until the next tick when it falls within the read's timeout, and answers that tick
// as one event; otherwise it sleeps the whole timeout and answers none. Like robfig/cron, the
// next tick is computed from when the last one fired, so ticks missed while the host was slow
// are not queued up: the next one due fires once.
import {
  clock,
  Event,
  InputBinding,
  log,
  Metadata,
  ReadResult,
  sleep,
  StateError,
} from "../../../sdk/assemblyscript/assembly/binding";
import { NEVER, parseSchedule, Schedule } from "./schedule";
import { goUtcString } from "./zoned-time";

/** No tick computed yet: the first `read` computes it from its own time, as Dapr's `Start` does. */
const UNSET: i64 = i64.MAX_VALUE;

/** The value of `key`, compared without case as Dapr decodes metadata. */
function setting(config: Metadata, key: string): string | null {
  const wanted = key.toLowerCase();
  for (let i = 0; i < config.length; i++) {
    if (config.keyAt(i).toLowerCase() == wanted) return config.valueAt(i);
  }
  return null;
}

export class CronBinding extends InputBinding {
  private schedule: Schedule | null = null;
  /** The wall-clock time (ms) of the next tick, `UNSET` or `NEVER`. */
  private nextTick: i64 = UNSET;

  init(config: Metadata): StateError | null {
    const text = setting(config, "schedule");
    if (text === null || text.length == 0) {
      return StateError.invalidArgument('bindings.cron: metadata "schedule" is not set: give a schedule such as "@every 15s", "0 30 * * * *" or "CRON_TZ=Europe/Paris 0 9 * * MON-FRI"');
    }
    const parsed = parseSchedule(text, <i64>clock.nowMs());
    const schedule = parsed.schedule;
    if (schedule === null) return StateError.invalidArgument(`bindings.cron: invalid schedule "${text}": ${parsed.error!}`);
    this.schedule = schedule;
    if (schedule.next(<i64>clock.nowMs()) == NEVER) log.warn(`bindings.cron: schedule "${text}" matches no time in the next five years: it will not fire`);
    return null;
  }

  read(maxEvents: u32, timeoutMs: u32): ReadResult {
    const schedule = this.schedule;
    if (schedule === null) return ReadResult.failed(StateError.internal("bindings.cron: read before init"));
    if (maxEvents == 0) return ReadResult.none();
    // The read's deadline on the monotonic clock, which `sleep` measures its waits with.
    const deadlineNs = clock.monotonicNs() + <u64>timeoutMs * 1_000_000;
    if (this.nextTick == UNSET) this.nextTick = schedule.next(<i64>clock.nowMs());
    while (true) {
      const now = <i64>clock.nowMs();
      if (this.nextTick != NEVER && now >= this.nextTick) return ReadResult.ok([this.fire(schedule, now)]);
      const monotonic = clock.monotonicNs();
      if (monotonic >= deadlineNs) return ReadResult.none();
      // Sleep until the tick or the deadline, whichever is first; the loop then checks the
      // wall clock again, so a tick never fires early even if that clock and the monotonic
      // one drift apart.
      const leftMs = (deadlineNs - monotonic + 999_999) / 1_000_000;
      const untilTick = this.nextTick == NEVER ? leftMs : <u64>(this.nextTick - now);
      sleep.ms(<u32>min<u64>(min<u64>(leftMs, untilTick), u32.MAX_VALUE));
    }
    return ReadResult.none();
  }

  /** One tick's event, fired at `now` (ms): empty data, and the metadata Dapr's cron binding sends. */
  private fire(schedule: Schedule, now: i64): Event {
    const tick = this.nextTick;
    // From the later of now and the tick: the next one is always later than this one, even
    // if the wall clock was set back meanwhile.
    this.nextTick = schedule.next(max<i64>(now, tick));
    const metadata = new Metadata().append("timeZone", schedule.zone.name).append("readTimeUTC", goUtcString(now));
    return new Event(tick.toString(), new Uint8Array(0), metadata, null);
  }
}
