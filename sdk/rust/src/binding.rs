// The traits a binding implements for the WIT interfaces of abi/wit/bindings.wit: `Binding`
// (interface `binding`, what every binding exports), `OutputBinding` (`output`) and
// `InputBinding` (`input`). Their values are generated (src/generated/types.rs); the generated
// glue calls a binding through each interface's generated `Guest` trait, which every
// implementation of the matching trait here implements (below). `init` and `ping` sit in
// `Binding` because a binding of both directions exports them once.
use crate::generated::types::{Error, Event, EventOutcome, InvokeRequest, InvokeResponse};
use crate::generated::{binding, input, output};
use crate::types::Metadata;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What every binding implements, whichever its direction: Dapr's `bindings.*` components.
/// The host makes the binding with `Default::default()`, calls `init` first, then one method
/// at a time and never re-enters: no locking is needed. Both methods have defaults, so
/// `impl Binding for MyBinding {}` is enough for a binding without configuration.
pub trait Binding {
    /// Called once per instance, before any other method, with the Component YAML's
    /// `spec.metadata`. Refuse a bad value with [`Error::InvalidArgument`] quoting it: the
    /// error fails the load.
    fn init(&mut self, config: Metadata) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }

    /// Checks the binding can serve; answer [`Error::Unavailable`] when what it talks to is
    /// unreachable.
    fn ping(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// An output binding: the app invokes one of its operations (`POST /v1.0/bindings/{name}`),
/// exported with [`export_output_binding!`](crate::export_output_binding) (or
/// [`export_input_output_binding!`](crate::export_input_output_binding) with [`InputBinding`]).
pub trait OutputBinding: Binding {
    /// The operations it supports, as Dapr names them (`create`, `get`, `delete`, `list`) or
    /// its own. `invoke` is called with one of them only: the SDK answers any other with
    /// [`unsupported_operation`].
    fn operations(&self) -> &[&str];

    /// Runs `operation` on the request's `data` (for a call over HTTP, the JSON text of its
    /// `data`, as daprd passes it: a JSON string keeps its quotes) and `metadata`. An empty
    /// response (`InvokeResponse::default()`) is answered with no body (HTTP 204).
    fn invoke(&mut self, operation: &str, data: Vec<u8>, metadata: Metadata) -> Result<InvokeResponse, Error>;
}

/// An input binding: events from outside that the host delivers to the app, exported with
/// [`export_input_binding!`](crate::export_input_binding). The host reads events and
/// acknowledges each with the app's verdict, so a binding that can deliver again (a queue)
/// does, and one that cannot (a timer) ignores failures.
pub trait InputBinding: Binding {
    /// Up to `max_events` events. A binding that can wait (it imports `sleep`, `tcp` or
    /// `http`) may block up to `timeout_ms` for the first one; otherwise it answers at once.
    /// An empty list means none yet.
    fn read(&mut self, max_events: u32, timeout_ms: u32) -> Result<Vec<Event>, Error>;

    /// What the app made of the event `event_id`: [`EventOutcome::Failure`] should bring it
    /// back, if the source can deliver again.
    fn ack(&mut self, event_id: String, outcome: EventOutcome) -> Result<(), Error>;
}

/// The error for an operation a binding does not support: `invalid-argument`, naming it and
/// listing the supported ones.
pub fn unsupported_operation(operation: &str, supported: &[&str]) -> Error {
    let mut message = format!("operation {:?} is not supported by this binding; supported operations: ", operation);
    // Not `join`: its instance here would change how every component using `join` builds.
    for (i, name) in supported.iter().enumerate() {
        if i > 0 {
            message.push_str(", ");
        }
        message.push_str(name);
    }
    Error::InvalidArgument(message)
}

impl InvokeResponse {
    /// A response of `data` with no metadata and no content type.
    pub fn with_data(data: Vec<u8>) -> InvokeResponse {
        InvokeResponse { data, ..InvokeResponse::default() }
    }
}

/// The generated glue's view of a binding: interface `binding`.
impl<T: Binding> binding::Guest for T {
    fn init(&mut self, config: Metadata) -> Result<(), Error> {
        Binding::init(self, config)
    }

    fn ping(&mut self) -> Result<(), Error> {
        Binding::ping(self)
    }
}

/// Interface `output`, with an operation outside `operations()` refused before `invoke`.
impl<T: OutputBinding> output::Guest for T {
    fn operations(&mut self) -> Vec<String> {
        OutputBinding::operations(self).iter().map(|op| String::from(*op)).collect()
    }

    fn invoke(&mut self, req: InvokeRequest) -> Result<InvokeResponse, Error> {
        let supported = OutputBinding::operations(self);
        if !supported.contains(&req.operation.as_str()) {
            return Err(unsupported_operation(&req.operation, supported));
        }
        OutputBinding::invoke(self, &req.operation, req.data, req.metadata)
    }
}

impl<T: InputBinding> input::Guest for T {
    fn read(&mut self, max_events: u32, timeout_ms: u32) -> Result<Vec<Event>, Error> {
        InputBinding::read(self, max_events, timeout_ms)
    }

    fn ack(&mut self, event_id: String, outcome: EventOutcome) -> Result<(), Error> {
        InputBinding::ack(self, event_id, outcome)
    }
}
