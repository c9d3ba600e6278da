// The host interfaces of abi/wit/host.wit, over their generated imports (generated/abi/):
// the names a component calls. wasm-ld imports only the functions a component calls, so its imports (and the
// manifest's capabilities) are exactly the interfaces it uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "generated/abi/clock.h"
#include "generated/abi/log.h"
#include "generated/abi/random.h"
#include "generated/abi/sleep.h"
#include "generated/log.h"
#include "types.h"

namespace tessera {

/** Structured logging into the sidecar's log, tagged with the component's name. */
namespace log {
/** `message` with each invalid UTF-8 sequence replaced by U+FFFD (the host would trap on it). */
inline void write(LogLevel level, std::string_view message) { generated::log::log(level, message); }
inline void trace(std::string_view message) { write(LogLevel::Trace, message); }
inline void debug(std::string_view message) { write(LogLevel::Debug, message); }
inline void info(std::string_view message) { write(LogLevel::Info, message); }
inline void warn(std::string_view message) { write(LogLevel::Warn, message); }
inline void error(std::string_view message) { write(LogLevel::Error, message); }
}  // namespace log

/** Time. A component has no other way to read a clock (`time()` and friends would import WASI). */
namespace clock {
/** Wall-clock time in milliseconds since the Unix epoch. */
inline std::uint64_t now_ms() { return generated::clock::now_ms(); }
/** Monotonic time in nanoseconds from an arbitrary origin. */
inline std::uint64_t monotonic_ns() { return generated::clock::monotonic_ns(); }
}  // namespace clock

/** Cryptographically secure random bytes from the host (which caps `len` per call). */
namespace random {
inline Bytes bytes(std::uint32_t len) { return generated::random::get_random_bytes(len); }
}  // namespace random

/**
 * Suspends this component, not the sidecar (JSPI). Importing it makes every call of the
 * component async on the host side, so use it only where a store really must wait.
 */
namespace sleep {
inline void ms(std::uint32_t ms) { generated::sleep::sleep_ms(ms); }
}  // namespace sleep

}  // namespace tessera
