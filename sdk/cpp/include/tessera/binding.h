// The binding worlds as C++ sees them (abi/wit/bindings.wit): `Binding` (init, ping), which every
// binding implements, and the two directions over it, `OutputBinding` (operations, invoke) and
// `InputBinding` (read, ack), over the generated records (generated/output.h: `InvokeRequest`,
// `InvokeResponse`; generated/input.h: `Event`, `EventOutcome`). `Binding` is a virtual base of
// both, so one class deriving from both directions (Dapr's `direction: input, output`) has one
// `init` and one `ping`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "generated/input.h"
#include "generated/output.h"
#include "types.h"

namespace tessera {

/** The operations Dapr names; a binding may support others of its own. */
namespace operation {
inline constexpr const char* create = "create";
inline constexpr const char* get = "get";
inline constexpr const char* del = "delete";
inline constexpr const char* list = "list";
}  // namespace operation

/** What `invoke` answers: the response, or an error (the app gets `ERR_INVOKE_OUTPUT_BINDING` naming it). */
using InvokeResult = Result<InvokeResponse>;

/** What `read` answers: zero or more events, or an error. */
using ReadResult = Result<std::vector<Event>>;

/**
 * What every binding implements, whichever its direction (WIT interface `binding`). Derive from
 * `OutputBinding`, `InputBinding` or both rather than from this. The host calls one method at
 * a time and never re-enters: no locking. Each method owns its arguments.
 */
class Binding {
 public:
  virtual ~Binding() = default;

  /**
   * Called once, before any other method, with the Component YAML's `spec.metadata`. A bad
   * value fails here with `Error::invalid_argument(...)` quoting it: the component does not start.
   */
  virtual Status init(Metadata config) {
    (void)config;
    return {};
  }

  /** Whether the binding can work (its engine answers); the default says yes. */
  virtual Status ping() { return {}; }
};

/**
 * An output binding: the app invokes its operations (`POST /v1.0/bindings/{name}`). Implement
 * `operations` and `invoke`, and name the class in `TESSERA_EXPORT_OUTPUT_BINDING`.
 */
class OutputBinding : public virtual Binding {
 public:
  /**
   * The operations it supports (`operation::create`, `operation::get`, ... or its own names).
   * The host asks once per instance and refuses any other operation before calling `invoke`.
   */
  virtual std::vector<std::string> operations() = 0;

  /**
   * Runs one operation. `req.data` is the request's `data` as JSON text (a JSON string keeps
   * its quotes). An empty `InvokeResponse` answers the app with 204; its `metadata` reaches the
   * app as `metadata.<key>` headers.
   */
  virtual InvokeResult invoke(InvokeRequest req) = 0;
};

/**
 * An input binding: events from outside, which the host delivers to the app and acknowledges
 * with the app's verdict. Implement `read` and `ack`, and name the class in
 * `TESSERA_EXPORT_INPUT_BINDING`.
 */
class InputBinding : public virtual Binding {
 public:
  /**
   * Up to `max_events` events, each with an id unique until it is acknowledged. A binding that
   * can wait (it calls `tessera::sleep`, `tcp` or `http`) may block up to `timeout_ms` for the
   * first one; one that cannot answers at once, an empty list when none is due.
   */
  virtual ReadResult read(std::uint32_t max_events, std::uint32_t timeout_ms) = 0;

  /**
   * The app's verdict on an event `read` handed out: `Success` (it answered 200) or `Failure`.
   * A binding that can deliver again (a queue) does so after a failure; one that cannot (a
   * timer) ignores it.
   */
  virtual Status ack(std::string event_id, EventOutcome outcome) = 0;
};

}  // namespace tessera
