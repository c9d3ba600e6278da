// Times as Dapr's state API writes them: `ttlExpireTime` is RFC 3339 in UTC. Pure
// arithmetic (no host call), so every store that has TTLs formats them alike.
use alloc::format;
use alloc::string::String;

/// RFC 3339 in UTC with whole seconds, e.g. `2026-11-26T07:30:00Z`, for milliseconds since
/// the Unix epoch (as [`clock::now_ms`](crate::clock::now_ms) gives them).
pub fn format_rfc3339(epoch_ms: u64) -> String {
    let secs = epoch_ms / 1000;
    let (days, day_secs) = (secs / 86400, secs % 86400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days + 719468;
    let era = z / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        year,
        month,
        day,
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    )
}
