// Dapr's metadata values as bindings.http reads them: Go durations (`responseTimeout`),
// Kubernetes byte quantities (`maxResponseBodySize`), truthy flags (`errorIfNot2XX`) and the
// endpoint URL. Each parser answers the value or says what is wrong with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tessera/tessera.h>

namespace bindings_http {

/** Whether two names are the same but for the case of ASCII letters. */
bool equal_ignoring_case(std::string_view a, std::string_view b);

/** The value of the first pair named `key`, compared without case, as Dapr reads metadata. */
std::optional<std::string_view> setting(const tessera::Metadata& config, std::string_view key);

/**
 * A Go duration (`10s`, `1m30s`, `500ms`, `1.5h`) or a whole number of seconds (`30`), as
 * dapr/kit reads one, in milliseconds rounded up, at most UINT32_MAX; none for a value that
 * is neither or is not positive.
 */
std::optional<std::uint32_t> duration_ms(std::string_view text);

/**
 * A Kubernetes quantity of bytes (`100Mi`, `1Gi`, `500k`, `1048576`), as dapr/kit reads one;
 * at most UINT32_MAX (more is the same to the host, which caps responses below it); 0 for a
 * value that is 0 or negative (no limit, as in Dapr); none for a value that is not a quantity
 * of whole bytes.
 */
std::optional<std::uint32_t> byte_size(std::string_view text);

/** `1`, `true`, `t`, `yes`, `y`, `on` in any case, as Dapr's IsTruthy; anything else is false. */
bool truthy(std::string_view text);

/** Why `url` cannot be the endpoint (an absolute http: or https: URL with a host), or none. */
std::optional<std::string> url_problem(std::string_view url);

}  // namespace bindings_http
