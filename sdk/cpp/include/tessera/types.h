// Types shared by every component kind (WIT interface `types`): bytes, request metadata, the
// error every fallible export returns, and `Result`, which carries a value or that error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "generated/package.h"
#include "generated/types.h"

namespace tessera {

/** WIT `list<u8>`: values, snapshots, random bytes. */
using Bytes = std::vector<std::uint8_t>;

/**
 * Ordered key/value pairs (WIT `list<tuple<string, string>>`): a component's configuration and
 * the metadata that travels with a request or a response. Order and duplicates survive the
 * trip through the ABI; `get` answers the first match.
 */
class Metadata {
 public:
  using Entry = std::pair<std::string, std::string>;

  Metadata() = default;
  Metadata(std::initializer_list<Entry> entries) : entries_(entries) {}
  explicit Metadata(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const Entry& operator[](std::size_t i) const { return entries_[i]; }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }

  /** The value of the first pair named `key`; it points into this object. */
  std::optional<std::string_view> get(std::string_view key) const {
    for (const Entry& entry : entries_) {
      if (entry.first == key) return std::string_view(entry.second);
    }
    return std::nullopt;
  }

  bool has(std::string_view key) const { return get(key).has_value(); }

  /** Replaces the value of the first pair named `key`, or appends the pair. */
  Metadata& set(std::string key, std::string value) {
    for (Entry& entry : entries_) {
      if (entry.first == key) {
        entry.second = std::move(value);
        return *this;
      }
    }
    return append(std::move(key), std::move(value));
  }

  /** Appends a pair, even when `key` is already present. */
  Metadata& append(std::string key, std::string value) {
    entries_.emplace_back(std::move(key), std::move(value));
    return *this;
  }

  void reserve(std::size_t n) { entries_.reserve(n); }

 private:
  std::vector<Entry> entries_;
};

/**
 * The error a fallible export returns (WIT `error`; its cases are the generated `ErrorKind`).
 * There are no exceptions in a component (`-fno-exceptions`): a component returns one inside a
 * `Result`. Messages should name the key and say what to do; the host maps the kind to a Dapr
 * error and HTTP status.
 */
struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;

  static Error etag_mismatch(std::string message) { return {ErrorKind::EtagMismatch, std::move(message)}; }
  static Error etag_invalid(std::string message) { return {ErrorKind::EtagInvalid, std::move(message)}; }
  static Error not_found(std::string message) { return {ErrorKind::NotFound, std::move(message)}; }
  static Error invalid_argument(std::string message) { return {ErrorKind::InvalidArgument, std::move(message)}; }
  static Error unavailable(std::string message) { return {ErrorKind::Unavailable, std::move(message)}; }
  static Error internal(std::string message) { return {ErrorKind::Internal, std::move(message)}; }
};

/** The same type under the name the state-store API first gave it: `StateError` and `Error` are one type. */
using StateError = Error;
using StateErrorKind = ErrorKind;

/**
 * A `T` or a `StateError` (WIT `result<T, error>`). Converts implicitly from either, so a
 * method returns `value` or `StateError::not_found(...)` alike. Reading the side it does not
 * hold traps, as there are no exceptions to throw.
 */
template <class T>
class [[nodiscard]] Result {
 public:
  Result() = default;
  Result(StateError error) : state_(std::in_place_index<1>, std::move(error)) {}
  template <class U = T,
            std::enable_if_t<std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Result> &&
                                 !std::is_same_v<std::decay_t<U>, StateError>,
                             int> = 0>
  Result(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return *checked(std::get_if<0>(&state_)); }
  const T& value() const& { return *checked(std::get_if<0>(&state_)); }
  T&& value() && { return std::move(*checked(std::get_if<0>(&state_))); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const StateError& error() const { return *checked(std::get_if<1>(&state_)); }

 private:
  template <class P>
  static P* checked(P* p) {
    if (p == nullptr) __builtin_trap();
    return p;
  }

  std::variant<T, StateError> state_;
};

/** Success or a `StateError` (WIT `result<_, error>`): `return {};` succeeds. */
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(StateError error) : error_(std::move(error)) {}

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }

  const StateError& error() const {
    if (!error_) __builtin_trap();
    return *error_;
  }

 private:
  std::optional<StateError> error_;
};

using Status = Result<void>;

/** The successful `Status`, for readability: `return tessera::ok();`. */
inline Status ok() { return {}; }

}  // namespace tessera
