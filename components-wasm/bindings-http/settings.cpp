// See settings.h.
#include "settings.h"

#include <cmath>
#include <cstdint>
#include <limits>

namespace bindings_http {

namespace {

constexpr std::uint32_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/** Reads `digits[.digits]` at `at` into `value`; false when there is no digit at all. */
bool number(std::string_view text, std::size_t& at, double& value) {
  const std::size_t start = at;
  value = 0;
  while (at < text.size() && is_digit(text[at])) value = value * 10 + (text[at++] - '0');
  bool digits = at > start;
  if (at < text.size() && text[at] == '.') {
    at++;
    double scale = 0.1;
    for (; at < text.size() && is_digit(text[at]); at++, scale /= 10) {
      value += (text[at] - '0') * scale;
      digits = true;
    }
  }
  return digits;
}

/** Nanoseconds in one of Go's duration units, or 0 for none. */
double unit_ns(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  if (unit == "m") return 60e9;
  if (unit == "h") return 3600e9;
  return 0;
}

/** Go's time.ParseDuration, in nanoseconds. */
std::optional<double> go_duration_ns(std::string_view text) {
  std::size_t at = 0;
  double sign = 1;
  if (at < text.size() && (text[at] == '-' || text[at] == '+')) sign = text[at++] == '-' ? -1 : 1;
  if (text.substr(at) == "0") return 0.0;
  if (at == text.size()) return std::nullopt;
  double total = 0;
  while (at < text.size()) {
    double value = 0;
    if (!number(text, at, value)) return std::nullopt;
    const std::size_t unit_start = at;
    while (at < text.size() && !is_digit(text[at]) && text[at] != '.') at++;
    const double ns = unit_ns(text.substr(unit_start, at - unit_start));
    if (ns == 0) return std::nullopt;
    total += value * ns;
  }
  return sign * total;
}

}  // namespace

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); i++) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> setting(const tessera::Metadata& config, std::string_view key) {
  for (const auto& [name, value] : config) {
    if (equal_ignoring_case(name, key)) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::uint32_t> duration_ms(std::string_view text) {
  std::optional<double> ns = go_duration_ns(text);
  if (!ns) {
    // dapr/kit's fallback: a whole number of seconds.
    std::size_t at = text.size() > 0 && text[0] == '+' ? 1 : 0;
    if (at == text.size()) return std::nullopt;
    double seconds = 0;
    for (; at < text.size(); at++) {
      if (!is_digit(text[at])) return std::nullopt;
      seconds = seconds * 10 + (text[at] - '0');
    }
    ns = seconds * 1e9;
  }
  if (!(*ns > 0)) return std::nullopt;
  const double ms = std::ceil(*ns / 1e6);
  return ms >= kMaxU32 ? kMaxU32 : static_cast<std::uint32_t>(ms);
}

std::optional<std::uint32_t> byte_size(std::string_view text) {
  std::size_t at = 0;
  double sign = 1;
  if (at < text.size() && (text[at] == '-' || text[at] == '+')) sign = text[at++] == '-' ? -1 : 1;
  double value = 0;
  if (!number(text, at, value)) return std::nullopt;
  const std::string_view suffix = text.substr(at);
  static constexpr struct {
    const char* suffix;
    double factor;
  } kSuffixes[] = {
      {"", 1},           {"k", 1e3},          {"M", 1e6},          {"G", 1e9},          {"T", 1e12},         {"P", 1e15},
      {"E", 1e18},       {"Ki", 1024.0},      {"Mi", 1048576.0},   {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0},
  };
  double factor = 0;
  for (const auto& s : kSuffixes) {
    if (suffix == s.suffix) factor = s.factor;
  }
  if (factor == 0) return std::nullopt;
  const double bytes = sign * value * factor;
  if (bytes <= 0) return 0u;
  if (bytes != std::floor(bytes)) return std::nullopt;
  return bytes >= kMaxU32 ? kMaxU32 : static_cast<std::uint32_t>(bytes);
}

bool truthy(std::string_view text) {
  for (std::string_view yes : {"1", "true", "t", "yes", "y", "on"}) {
    if (equal_ignoring_case(text, yes)) return true;
  }
  return false;
}

std::optional<std::string> url_problem(std::string_view url) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return "it contains a space or a control character";
  }
  std::size_t rest = 0;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() >= scheme.size() && equal_ignoring_case(url.substr(0, scheme.size()), scheme)) rest = scheme.size();
  }
  if (rest == 0) return "it is not an absolute http:// or https:// URL";
  const std::size_t end = url.find_first_of("/?#", rest);
  const std::string_view authority = url.substr(rest, end == std::string_view::npos ? std::string_view::npos : end - rest);
  const std::size_t at_sign = authority.rfind('@');
  const std::string_view host = at_sign == std::string_view::npos ? authority : authority.substr(at_sign + 1);
  if (host.empty() || host[0] == ':') return "it names no host";
  return std::nullopt;
}

}  // namespace bindings_http
