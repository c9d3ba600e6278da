// TESSERA_MANIFEST, TESSERA_PUBSUB_MANIFEST, TESSERA_BINDING_MANIFEST: the module's `tessera:manifest` custom section
// (abi/ABI.md), written by the compiler itself. Clang has no attribute for a wasm custom
// section (a `section` attribute makes a data segment), but its assembler turns a
// `.custom_section.<name>` section into one, and wasm-ld keeps it through --strip-all.
// Stringizing a string literal escapes `"` and `\` exactly as JSON does, so the JSON is
// assembled by the preprocessor, in a fixed key order.
#pragma once

#include <initializer_list>
#include <string_view>

#include "generated/package.h"
#include "types.h"

namespace tessera::detail {

/**
 * Whether `spelled`, a macro argument as the preprocessor stringizes it, is one plain string
 * literal whose body is also a valid JSON string: no `u8`/`L` prefix, no adjacent literals to
 * concatenate (stringizing happens before concatenation), and only escapes JSON knows.
 */
constexpr bool is_json_string_literal(std::string_view spelled) {
  if (spelled.size() < 2 || spelled.front() != '"' || spelled.back() != '"') return false;
  const std::string_view body = spelled.substr(1, spelled.size() - 2);
  const std::string_view hex = "0123456789abcdefABCDEF";
  for (std::size_t i = 0; i < body.size(); i++) {
    if (body[i] == '"') return false;
    if (body[i] != '\\') continue;
    if (++i == body.size()) return false;
    if (body[i] == 'u') {
      if (i + 4 >= body.size()) return false;
      for (std::size_t k = 1; k <= 4; k++) {
        if (hex.find(body[i + k]) == std::string_view::npos) return false;
      }
      i += 4;
    } else if (std::string_view("\"\\/bfnrt").find(body[i]) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

/** Whether `spelled`, a stringized string literal, starts with `prefix` (`"pubsub.memory"`, `pubsub.`). */
constexpr bool has_type_prefix(std::string_view spelled, std::string_view prefix) {
  return spelled.size() > prefix.size() + 2 && spelled.substr(1, prefix.size()) == prefix;
}

constexpr bool are_json_string_literals(std::initializer_list<std::string_view> spelled) {
  for (std::string_view s : spelled) {
    if (!is_json_string_literal(s)) return false;
  }
  return true;
}

/** Whether every capability is a host interface of the WIT (generated/package.h), named once. */
constexpr bool valid_capabilities(std::initializer_list<std::string_view> capabilities) {
  constexpr std::string_view known[] = {TESSERA_DETAIL_HOST_INTERFACES};
  std::size_t i = 0;
  for (std::string_view capability : capabilities) {
    bool found = false;
    for (std::string_view name : known) found = found || name == capability;
    if (!found) return false;
    std::size_t j = 0;
    for (std::string_view other : capabilities) {
      if (j++ < i && other == capability) return false;
    }
    i++;
  }
  return true;
}

}  // namespace tessera::detail

#define TESSERA_DETAIL_STR(x) #x
/** A string literal as an assembler string whose bytes are that literal in JSON: "a\"b" -> "\"a\\\"b\"". */
#define TESSERA_DETAIL_JSON(literal) TESSERA_DETAIL_XSTR(TESSERA_DETAIL_STR(literal))
#define TESSERA_DETAIL_XSTR(x) TESSERA_DETAIL_STR(x)

#define TESSERA_DETAIL_SPELLED_1(a) TESSERA_DETAIL_STR(a)
#define TESSERA_DETAIL_SPELLED_2(a, b) TESSERA_DETAIL_STR(a), TESSERA_DETAIL_STR(b)
#define TESSERA_DETAIL_SPELLED_3(a, b, c) TESSERA_DETAIL_SPELLED_2(a, b), TESSERA_DETAIL_STR(c)
#define TESSERA_DETAIL_SPELLED_4(a, b, c, d) TESSERA_DETAIL_SPELLED_3(a, b, c), TESSERA_DETAIL_STR(d)
#define TESSERA_DETAIL_SPELLED(...)                                                                                 \
  __VA_OPT__(, TESSERA_DETAIL_CAPS_PICK(__VA_ARGS__, TESSERA_DETAIL_SPELLED_4, TESSERA_DETAIL_SPELLED_3,              \
                                        TESSERA_DETAIL_SPELLED_2, TESSERA_DETAIL_SPELLED_1, )(__VA_ARGS__))

#define TESSERA_DETAIL_CAPS_1(a) ", " TESSERA_DETAIL_JSON(a)
#define TESSERA_DETAIL_CAPS_2(a, b) TESSERA_DETAIL_CAPS_1(a) ", \",\"" TESSERA_DETAIL_CAPS_1(b)
#define TESSERA_DETAIL_CAPS_3(a, b, c) TESSERA_DETAIL_CAPS_2(a, b) ", \",\"" TESSERA_DETAIL_CAPS_1(c)
#define TESSERA_DETAIL_CAPS_4(a, b, c, d) TESSERA_DETAIL_CAPS_3(a, b, c) ", \",\"" TESSERA_DETAIL_CAPS_1(d)
#define TESSERA_DETAIL_CAPS_PICK(a, b, c, d, macro, ...) macro
#define TESSERA_DETAIL_CAPS(...)                                                                              \
  __VA_OPT__(TESSERA_DETAIL_CAPS_PICK(__VA_ARGS__, TESSERA_DETAIL_CAPS_4, TESSERA_DETAIL_CAPS_3, TESSERA_DETAIL_CAPS_2, \
                                      TESSERA_DETAIL_CAPS_1, )(__VA_ARGS__))

/**
 * The manifest of a state-store component, e.g.
 * `TESSERA_MANIFEST("state.memory", "v1", "In-memory key/value store.", "log", "clock");`
 * Every argument is one plain string literal: the Dapr component type (`state.<name>`), its
 * version, a one-line description, then the host interfaces the module imports ("log",
 * "clock", "random", "sleep"), no more and no fewer. Use it once per module, at namespace scope.
 */
#define TESSERA_MANIFEST(type, version, description, ...)                                                         \
  TESSERA_DETAIL_MANIFEST("TESSERA_MANIFEST", "state-store", "state.", type, version, description __VA_OPT__(, ) \
                              __VA_ARGS__)

/**
 * The manifest of a pub/sub broker (kind "pubsub"), e.g.
 * `TESSERA_PUBSUB_MANIFEST("pubsub.memory", "v1", "In-memory broker.", "log", "clock");`
 * The same arguments as `TESSERA_MANIFEST`; the type is `pubsub.<name>`.
 */
#define TESSERA_PUBSUB_MANIFEST(type, version, description, ...)                                                  \
  TESSERA_DETAIL_MANIFEST("TESSERA_PUBSUB_MANIFEST", "pubsub", "pubsub.", type, version, description __VA_OPT__(, ) \
                              __VA_ARGS__)

/**
 * The manifest of a binding (kind "binding"), input, output or both, e.g.
 * `TESSERA_BINDING_MANIFEST("bindings.http", "v1", "Calls an HTTP endpoint.", "log", "http");`
 * The same arguments as `TESSERA_MANIFEST`; the type is `bindings.<name>`, as Dapr names it.
 */
#define TESSERA_BINDING_MANIFEST(type, version, description, ...)                                                     \
  TESSERA_DETAIL_MANIFEST("TESSERA_BINDING_MANIFEST", "binding", "bindings.", type, version, description __VA_OPT__(, ) \
                              __VA_ARGS__)

#define TESSERA_DETAIL_MANIFEST(macro, kind, type_prefix, type, version, description, ...)                        \
  static_assert(::tessera::detail::are_json_string_literals({TESSERA_DETAIL_STR(type), TESSERA_DETAIL_STR(version),    \
                                                              TESSERA_DETAIL_STR(description)                          \
                                                                  TESSERA_DETAIL_SPELLED(__VA_ARGS__)}),               \
                macro ": each argument must be one plain string literal (no prefix, no concatenation) "              \
                "using only the escapes JSON has: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");                      \
  static_assert(::tessera::detail::has_type_prefix(TESSERA_DETAIL_STR(type), type_prefix),                        \
                macro ": the type must start with \"" type_prefix "\", as Dapr names this kind of component");      \
  static_assert(::tessera::detail::valid_capabilities({__VA_ARGS__}),                                             \
                macro ": capabilities are " TESSERA_DETAIL_HOST_INTERFACES_TEXT ", each at most once");                   \
  __asm__(".section \".custom_section.tessera:manifest\",\"\",@\n"                                                \
          ".ascii \"{\\\"kind\\\":\\\"" kind "\\\",\\\"type\\\":\", " TESSERA_DETAIL_JSON(type)                  \
          ", \",\\\"version\\\":\", " TESSERA_DETAIL_JSON(version)                                                \
          ", \",\\\"abi\\\":\\\"" TESSERA_ABI_VERSION "\\\",\\\"capabilities\\\":[\"" TESSERA_DETAIL_CAPS(__VA_ARGS__) \
          ", \"],\\\"description\\\":\", " TESSERA_DETAIL_JSON(description) ", \"}\"\n"                          \
          ".text\n")
