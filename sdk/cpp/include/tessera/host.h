// The host interfaces of abi/wit/host.wit, over their generated imports (generated/abi/):
// the names a component calls. wasm-ld imports only the functions a component calls, so its imports (and the
// manifest's capabilities) are exactly the interfaces it uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

#include "generated/abi/clock.h"
#include "generated/abi/http.h"
#include "generated/abi/log.h"
#include "generated/abi/random.h"
#include "generated/abi/redis.h"
#include "generated/abi/sleep.h"
#include "generated/abi/tcp.h"
#include "generated/abi/timezone.h"
#include "generated/http.h"
#include "generated/log.h"
#include "types.h"

namespace tessera {

namespace detail {
/**
 * A host handle (a tcp connection, a redis handle) given back with `Close` exactly once: when
 * its owner closes it or is destroyed. Movable, not copyable.
 */
template <void (*Close)(std::uint32_t)>
class OwnedHandle {
 public:
  explicit OwnedHandle(std::uint32_t handle) : handle_(handle), open_(true) {}
  OwnedHandle(OwnedHandle&& other) noexcept : handle_(other.handle_), open_(other.open_) { other.open_ = false; }
  OwnedHandle& operator=(OwnedHandle&& other) noexcept {
    if (this != &other) {
      close();
      handle_ = other.handle_;
      open_ = other.open_;
      other.open_ = false;
    }
    return *this;
  }
  OwnedHandle(const OwnedHandle&) = delete;
  OwnedHandle& operator=(const OwnedHandle&) = delete;
  ~OwnedHandle() { close(); }

  /** The host's number for it. */
  std::uint32_t handle() const { return handle_; }

  /** Gives it back now (destroying it does the same). */
  void close() {
    if (open_) Close(handle_);
    open_ = false;
  }

 private:
  std::uint32_t handle_;
  bool open_;
};
}  // namespace detail

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

/**
 * Outbound TCP to the `host:port` pairs the component's YAML grants
 * (`tessera.dev/allow-tcp: "127.0.0.1:6379"`). Every call suspends this component, not the
 * sidecar (JSPI), so importing it makes every call of the component async on the host.
 */
namespace tcp {

/** An open connection; closed when destroyed (or by `close()`). Movable, not copyable. */
class Connection : public detail::OwnedHandle<generated::tcp::close> {
 public:
  using OwnedHandle::OwnedHandle;

  /**
   * Writes every byte of `data`; `ErrorKind::Unavailable` when the connection is gone (some
   * bytes may have left already: treat the connection as broken).
   */
  Status write_all(const Bytes& data) { return generated::tcp::write(handle(), data); }

  /**
   * Up to `max_bytes` bytes, waiting up to `timeout_ms` for the first one: empty bytes mean
   * none came in time. `ErrorKind::Unavailable` once the peer closed the connection or it broke.
   */
  Result<Bytes> read(std::uint32_t max_bytes, std::uint32_t timeout_ms) { return generated::tcp::read(handle(), max_bytes, timeout_ms); }
};

/**
 * Opens a connection to `host:port`, waiting up to `timeout_ms`. `ErrorKind::InvalidArgument`
 * when the component's YAML does not grant that address (the message names it and the
 * annotation to add), `ErrorKind::Unavailable` when it cannot be reached in time.
 */
inline Result<Connection> connect(std::string_view host, std::uint16_t port, std::uint32_t timeout_ms) {
  Result<std::uint32_t> opened = generated::tcp::connect(host, port, timeout_ms);
  if (!opened) return opened.error();
  return Connection(*opened);
}

}  // namespace tcp

/**
 * Redis commands to a server the component's YAML grants for tcp
 * (`tessera.dev/allow-tcp: "127.0.0.1:6379"`), pipelined by the host on one connection that
 * every instance of the component opening the same server, user and database shares.
 * Commands that keep state on a connection (`MULTI`, `SELECT`, `SUBSCRIBE`, a blocking read)
 * are refused; use `tcp` for those. Every `execute` suspends this component (JSPI).
 */
namespace redis {

/** A handle on the shared connection; released when destroyed (or by `close()`). Movable, not copyable. */
class Connection : public detail::OwnedHandle<generated::redis::close> {
 public:
  using OwnedHandle::OwnedHandle;

  /**
   * Sends `count` commands, each encoded as RESP sends it (see `encode_command`), and returns
   * their replies as the server sent them (RESP2), one after another, waiting up to
   * `timeout_ms` for all; `max_reply_bytes` caps them (0: the host's default, 4 MiB).
   * `ErrorKind::Unavailable` when the server cannot be reached, the connection broke or the
   * time passed; `ErrorKind::InvalidArgument` for malformed or refused commands, or replies
   * over the cap; `ErrorKind::Internal` when the server refused `AUTH` or `SELECT`.
   */
  Result<Bytes> execute(const Bytes& commands, std::uint32_t count, std::uint32_t timeout_ms, std::uint32_t max_reply_bytes = 0) const {
    return generated::redis::execute(handle(), commands, count, timeout_ms, max_reply_bytes);
  }
};

/**
 * A handle on the connection to `host:port` as `username` with `password` (each empty for
 * none) on database `db`. Nothing connects yet: the host connects (and sends `AUTH` and
 * `SELECT`) at the first `execute`, and again after the connection broke, each time waiting
 * up to `connect_timeout_ms`. `ErrorKind::InvalidArgument` when the component's YAML does not
 * grant that address.
 */
inline Result<Connection> open(std::string_view host, std::uint16_t port, std::string_view username, std::string_view password, std::uint32_t db,
                               std::uint32_t connect_timeout_ms) {
  Result<std::uint32_t> opened = generated::redis::open(host, port, username, password, db, connect_timeout_ms);
  if (!opened) return opened.error();
  return Connection(*opened);
}

/** Appends `args` to `out` as one RESP command: an array of bulk strings. */
inline void encode_command(Bytes& out, std::initializer_list<std::string_view> args) {
  const auto append = [&out](std::string_view text) { out.insert(out.end(), text.begin(), text.end()); };
  append("*" + std::to_string(args.size()) + "\r\n");
  for (std::string_view arg : args) {
    append("$" + std::to_string(arg.size()) + "\r\n");
    append(arg);
    append("\r\n");
  }
}

}  // namespace redis

/**
 * Outbound HTTP to the origins the component's YAML grants
 * (`tessera.dev/allow-http: "http://127.0.0.1:8080, https://api.example.com"`). Every call
 * suspends this component, not the sidecar (JSPI), so importing it makes every call of the
 * component async on the host.
 */
namespace http {

/** `status`, `headers` (names in lower case, in the order received: read one with `headers.get("content-type")`) and `body`. */
using Response = HttpResponse;

/**
 * Sends a request and reads the whole response; redirects are followed only to granted
 * origins. `method`: `GET`, `POST`, ... (any HTTP token); `url`: an absolute `http:` or
 * `https:` URL; `timeout_ms`: the whole exchange, 0 for the host's default (30 s);
 * `max_response_bytes`: the largest body taken, 0 for the host's default (4 MiB), capped by
 * the host (64 MiB). Any status is a response, 404 and 500 included.
 * `ErrorKind::InvalidArgument`: the URL is malformed, its origin (or a redirect's) is not
 * granted (the message names the annotation to add), or the body is over the cap;
 * `ErrorKind::Unavailable`: the server cannot be reached, or the timeout passed.
 */
inline Result<Response> send(std::string_view method, std::string_view url, const Metadata& headers = {}, const Bytes& body = {},
                             std::uint32_t timeout_ms = 0, std::uint32_t max_response_bytes = 0) {
  return generated::http::send(method, url, headers, body, timeout_ms, max_response_bytes);
}

}  // namespace http

/** Time zones from the host's database, so a component carries none of its own. */
namespace timezone {
/**
 * The offset of local time in `zone` (an IANA name such as `Europe/Paris`, or `UTC`) from UTC,
 * in minutes, at `utc_ms` (ms since the Unix epoch): 120 for Paris in summer.
 * `ErrorKind::InvalidArgument` naming the zone when the host does not know it.
 */
inline Result<std::int32_t> utc_offset_minutes(std::string_view zone, std::uint64_t utc_ms) {
  return generated::timezone::utc_offset_minutes(zone, utc_ms);
}
}  // namespace timezone

}  // namespace tessera
