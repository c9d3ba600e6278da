// The host interfaces of abi/wit/host.wit, imported under their canonical names, with safe
// wrappers. wasm-ld imports only the functions a component calls, so its imports (and the
// manifest's capabilities) are exactly the interfaces it uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "detail/utf8.h"
#include "types.h"

#define TESSERA_DETAIL_IMPORT(iface, name) \
  __attribute__((import_module("tessera:components/" iface "@" TESSERA_ABI_VERSION), import_name(name)))

extern "C" {
TESSERA_DETAIL_IMPORT("log", "log") void tessera_import_log(std::uint32_t level, const char* ptr, std::size_t len);
TESSERA_DETAIL_IMPORT("clock", "now-ms") std::uint64_t tessera_import_now_ms();
TESSERA_DETAIL_IMPORT("clock", "monotonic-ns") std::uint64_t tessera_import_monotonic_ns();
// list<u8> is two flat results, over MAX_FLAT_RESULTS: the host allocates the bytes with our
// cabi_realloc and writes (ptr, len) into the 8-byte return area we pass.
TESSERA_DETAIL_IMPORT("random", "get-random-bytes") void tessera_import_get_random_bytes(std::uint32_t len, void* ret_area);
TESSERA_DETAIL_IMPORT("sleep", "sleep-ms") void tessera_import_sleep_ms(std::uint32_t ms);
}

namespace tessera {

/** WIT `log.level`, numbered as the canonical ABI numbers the enum. */
enum class LogLevel : std::uint8_t { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4 };

/** Structured logging into the sidecar's log, tagged with the component's name. */
namespace log {
inline void write(LogLevel level, std::string_view message) {
  if (detail::is_valid_utf8(message)) {
    tessera_import_log(static_cast<std::uint32_t>(level), message.data(), message.size());
  } else {
    const std::string repaired = detail::repair_utf8(message);
    tessera_import_log(static_cast<std::uint32_t>(level), repaired.data(), repaired.size());
  }
}
inline void trace(std::string_view message) { write(LogLevel::Trace, message); }
inline void debug(std::string_view message) { write(LogLevel::Debug, message); }
inline void info(std::string_view message) { write(LogLevel::Info, message); }
inline void warn(std::string_view message) { write(LogLevel::Warn, message); }
inline void error(std::string_view message) { write(LogLevel::Error, message); }
}  // namespace log

/** Time. A component has no other way to read a clock (`time()` and friends would import WASI). */
namespace clock {
/** Wall-clock time in milliseconds since the Unix epoch. */
inline std::uint64_t now_ms() { return tessera_import_now_ms(); }
/** Monotonic time in nanoseconds from an arbitrary origin. */
inline std::uint64_t monotonic_ns() { return tessera_import_monotonic_ns(); }
}  // namespace clock

/** Cryptographically secure random bytes from the host (which caps `len` per call). */
namespace random {
inline Bytes bytes(std::uint32_t len) {
  alignas(4) std::uint8_t ret[8];
  tessera_import_get_random_bytes(len, ret);
  std::uint32_t ptr;
  std::uint32_t got;
  std::memcpy(&ptr, ret, 4);
  std::memcpy(&got, ret + 4, 4);
  if (got == 0) return {};
  auto* data = reinterpret_cast<std::uint8_t*>(static_cast<std::uintptr_t>(ptr));
  Bytes out(data, data + got);
  std::free(data);  // the list became ours: the host allocated it with our cabi_realloc
  return out;
}
}  // namespace random

/**
 * Suspends this component, not the sidecar (JSPI). Importing it makes every call of the
 * component async on the host side, so use it only where a store really must wait.
 */
namespace sleep {
inline void ms(std::uint32_t ms) { tessera_import_sleep_ms(ms); }
}  // namespace sleep

}  // namespace tessera
