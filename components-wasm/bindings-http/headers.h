// HTTP names as Dapr's Go binding shows them: header names in Go's canonical form
// (`content-type` -> `Content-Type`), a status as Go's `Response.Status` (`404 Not Found`),
// and request headers set once whatever the case of their name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tessera/tessera.h>

namespace bindings_http {

/** Go's http.CanonicalHeaderKey: the first letter and every letter after a `-` upper case, the rest lower. */
std::string canonical_header_key(std::string_view name);

/** `200 OK`, `404 Not Found`; a code without a standard text reads as Go's server writes it (`599 status code 599`). */
std::string status_line(std::uint16_t code);

/** Sets header `name` to `value`, replacing one of the same name in any case, as Go's Header.Set. */
void set_header(tessera::Metadata& headers, std::string_view name, std::string value);

/** Whether `headers` has one named `name`, in any case. */
bool has_header(const tessera::Metadata& headers, std::string_view name);

}  // namespace bindings_http
