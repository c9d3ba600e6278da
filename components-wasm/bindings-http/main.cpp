// bindings.http: Dapr's HTTP output binding. Each operation is one request to the configured
// `url` (plus the request's `path`) over the host's `http` capability, which allows only the
// origins the Component YAML grants (`tessera.dev/allow-http`). The response body is the
// answer's data; its status and headers come back as metadata, as Dapr's Go binding returns them.
#include <tessera/tessera.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "headers.h"
#include "settings.h"

TESSERA_BINDING_MANIFEST("bindings.http", "v1",
                         "Calls an HTTP endpoint, as Dapr's HTTP output binding: one request per invocation to the url the Component YAML sets, within the origins it grants (C++).",
                         "log", "http");

namespace bindings_http {

using tessera::Error;
using tessera::Status;

namespace {

/** Dapr's default `maxResponseBodySize` (100 MB; the host caps it lower). */
constexpr std::uint32_t kDefaultMaxResponseBytes = 100u << 20;
constexpr const char* kJson = "application/json; charset=utf-8";

/** The operations, as Dapr lists them (`create` is `post`, for backward compatibility), and their methods. */
constexpr struct {
  const char* operation;
  const char* method;
} kOperations[] = {
    {"create", "POST"}, {"get", "GET"}, {"head", "HEAD"}, {"post", "POST"},
    {"put", "PUT"},     {"patch", "PATCH"}, {"delete", "DELETE"}, {"options", "OPTIONS"},
};

std::string operation_list() {
  std::string out;
  for (std::size_t i = 0; i < std::size(kOperations); i++) {
    if (i > 0) out += i + 1 == std::size(kOperations) ? " or " : ", ";
    out += kOperations[i].operation;
  }
  return out;
}

/** The method of an operation, in any case as Dapr upper-cases it; none for another. */
std::optional<std::string_view> method_of(std::string_view operation) {
  for (const auto& op : kOperations) {
    if (equal_ignoring_case(operation, op.operation)) return std::string_view(op.method);
  }
  return std::nullopt;
}

/** `base` with `path` appended as Dapr does: exactly one `/` between them. */
std::string join_path(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return std::string(base) + "/" + std::string(path);
}

/** The error a non-2xx status gives: its kind says whether trying again may help. */
Error status_error(std::uint16_t status, std::string_view method, const std::string& url) {
  std::string message = "received status code " + std::to_string(status) + " (" + status_line(status) + ") from " +
                        std::string(method) + " " + url;
  if (status == 404) return Error::not_found(std::move(message));
  if (status == 408 || status == 429 || status >= 500) return Error::unavailable(std::move(message));
  if (status >= 400) return Error::invalid_argument(std::move(message));
  return Error::internal(std::move(message));
}

/** The response headers as Dapr's metadata: Go's canonical names, repeated headers joined with `, `. */
void add_headers(tessera::Metadata& metadata, const tessera::Metadata& headers) {
  const std::size_t first = metadata.size();
  for (const auto& [name, value] : headers) {
    const std::string key = canonical_header_key(name);
    bool joined = false;
    for (std::size_t i = first; i < metadata.size() && !joined; i++) {
      if (metadata[i].first != key) continue;
      metadata.set(key, metadata[i].second + ", " + value);
      joined = true;
    }
    if (!joined) metadata.append(key, value);
  }
}

}  // namespace

class HttpBinding final : public tessera::OutputBinding {
 public:
  Status init(tessera::Metadata config) override {
    const std::optional<std::string_view> url = setting(config, "url");
    if (!url || url->empty()) return Error::invalid_argument("metadata url is required: set it to the endpoint to call, e.g. http://127.0.0.1:8080/things");
    if (std::optional<std::string> problem = url_problem(*url)) {
      return Error::invalid_argument("metadata url \"" + std::string(*url) + "\" is not usable: " + *problem + " (e.g. http://127.0.0.1:8080/things)");
    }
    url_ = std::string(*url);
    if (std::optional<std::string_view> text = setting(config, "responseTimeout"); text && !text->empty()) {
      std::optional<std::uint32_t> ms = duration_ms(*text);
      if (!ms) return Error::invalid_argument("metadata responseTimeout \"" + std::string(*text) + "\" is not a positive duration such as 10s, 500ms or 1m30s");
      timeout_ms_ = *ms;
    }
    if (std::optional<std::string_view> text = setting(config, "maxResponseBodySize"); text && !text->empty()) {
      std::optional<std::uint32_t> bytes = byte_size(*text);
      if (!bytes) return Error::invalid_argument("metadata maxResponseBodySize \"" + std::string(*text) + "\" is not a size in bytes such as 100Mi, 1Gi or 1048576");
      // Dapr: 0 or less means no limit; the host's own cap still applies.
      max_response_bytes_ = *bytes == 0 ? UINT32_MAX : *bytes;
    }
    const std::optional<std::string_view> token = setting(config, "securityToken");
    const std::optional<std::string_view> token_header = setting(config, "securityTokenHeader");
    if (token && !token->empty() && token_header && !token_header->empty()) {
      token_header_ = std::string(*token_header);
      token_ = std::string(*token);
    }
    if (std::optional<std::string_view> text = setting(config, "errorIfNot2XX"); text && !text->empty()) error_if_not_2xx_ = truthy(*text);
    tessera::log::debug("bindings.http ready for " + url_);
    return {};
  }

  std::vector<std::string> operations() override {
    std::vector<std::string> out;
    for (const auto& op : kOperations) out.emplace_back(op.operation);
    return out;
  }

  tessera::InvokeResult invoke(tessera::InvokeRequest req) override {
    const std::optional<std::string_view> method = method_of(req.operation);
    if (!method) return Error::invalid_argument("operation \"" + req.operation + "\" is not supported: use " + operation_list());
    const tessera::Metadata& meta = req.metadata;
    const std::optional<std::string_view> path = meta.get("path");
    const std::string url = path && !path->empty() ? join_path(url_, *path) : url_;
    bool error_if_not_2xx = error_if_not_2xx_;
    if (std::optional<std::string_view> flag = meta.get("errorIfNot2XX"); flag && !flag->empty()) error_if_not_2xx = truthy(*flag);

    const bool has_body = *method == "POST" || *method == "PUT" || *method == "PATCH";
    tessera::Metadata headers;
    if (has_body && !meta.has("Content-Type")) headers.append("Content-Type", kJson);
    if (!meta.has("Accept")) headers.append("Accept", kJson);
    if (!token_header_.empty()) set_header(headers, token_header_, token_);
    // As Dapr: metadata keys that start with an upper-case letter are request headers.
    for (const auto& [key, value] : meta) {
      if (!key.empty() && key[0] >= 'A' && key[0] <= 'Z') set_header(headers, key, value);
    }
    for (std::string_view trace : {"traceparent", "tracestate", "baggage"}) {
      if (std::optional<std::string_view> value = meta.get(trace); value && !value->empty()) set_header(headers, trace, std::string(*value));
    }

    static const tessera::Bytes kNoBody;
    tessera::Result<tessera::http::Response> sent =
        tessera::http::send(*method, url, headers, has_body ? req.data : kNoBody, timeout_ms_, max_response_bytes_);
    if (!sent) return sent.error();
    tessera::http::Response& res = *sent;
    if (error_if_not_2xx && res.status / 100 != 2) return status_error(res.status, *method, url);

    tessera::Metadata metadata;
    metadata.reserve(res.headers.size() + 2);
    metadata.append("statusCode", std::to_string(res.status));
    metadata.append("status", status_line(res.status));
    add_headers(metadata, res.headers);
    std::optional<std::string> content_type;
    if (std::optional<std::string_view> ct = res.headers.get("content-type")) content_type = std::string(*ct);
    return tessera::InvokeResponse(std::move(res.body), std::move(metadata), std::move(content_type));
  }

 private:
  std::string url_;
  /** 0: the host's default (30 s). */
  std::uint32_t timeout_ms_ = 0;
  std::uint32_t max_response_bytes_ = kDefaultMaxResponseBytes;
  std::string token_header_;
  std::string token_;
  bool error_if_not_2xx_ = true;
};

}  // namespace bindings_http

TESSERA_EXPORT_OUTPUT_BINDING(bindings_http::HttpBinding);
