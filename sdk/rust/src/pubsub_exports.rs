// The body of every export of the WIT interface `pubsub`, generic over the component's
// broker: lift the arguments, call the broker, lower the answer into the return area and hand
// the host its pointer. `export_pubsub!` (macros.rs) wraps each in an `extern "C"` function
// under its canonical name.
// Safety, for every `unsafe fn` here: called only from that export, with the host's arguments.
#![allow(clippy::missing_safety_doc)]
use crate::abi::{
    begin_call, lift_list, lift_metadata, lift_string, lower_string_list, lower_unit_result, ret_area_ptr,
};
use crate::pubsub::PubSub;
use crate::pubsub_abi::{
    lift_ack_outcome, lift_publish_request, load_bulk_publish_entry, lower_bulk_publish_result, lower_pull_result,
    lower_subscribe_result, BULK_PUBLISH_ENTRY_SIZE,
};

// init: func(config: metadata) -> result<_, error>
pub unsafe fn init<T: PubSub>(broker: &mut T, config_ptr: usize, config_len: usize) -> *mut u8 {
    let ret = begin_call();
    lower_unit_result(ret, broker.init(lift_metadata(config_ptr, config_len)));
    ret_area_ptr()
}

// features: func() -> list<string>
pub unsafe fn features<T: PubSub>(broker: &mut T) -> *mut u8 {
    let ret = begin_call();
    lower_string_list(ret, broker.features());
    ret_area_ptr()
}

// publish: func(req: publish-request) -> result<_, error>; the request arrives flat (9 values).
#[allow(clippy::too_many_arguments)]
pub unsafe fn publish<T: PubSub>(
    broker: &mut T,
    topic_ptr: usize,
    topic_len: usize,
    data_ptr: usize,
    data_len: usize,
    content_type_is_some: u32,
    content_type_ptr: usize,
    content_type_len: usize,
    metadata_ptr: usize,
    metadata_len: usize,
) -> *mut u8 {
    let ret = begin_call();
    let req = lift_publish_request(
        (topic_ptr, topic_len),
        (data_ptr, data_len),
        (content_type_is_some, content_type_ptr, content_type_len),
        (metadata_ptr, metadata_len),
    );
    lower_unit_result(ret, broker.publish(req));
    ret_area_ptr()
}

// bulk-publish: func(topic: string, entries: list<bulk-publish-entry>, metadata: metadata)
//   -> result<list<bulk-publish-failure>, error>
#[allow(clippy::too_many_arguments)]
pub unsafe fn bulk_publish<T: PubSub>(
    broker: &mut T,
    topic_ptr: usize,
    topic_len: usize,
    entries_ptr: usize,
    entries_len: usize,
    metadata_ptr: usize,
    metadata_len: usize,
) -> *mut u8 {
    let ret = begin_call();
    let topic = lift_string(topic_ptr, topic_len);
    let entries = lift_list(entries_ptr, entries_len, BULK_PUBLISH_ENTRY_SIZE, load_bulk_publish_entry);
    let metadata = lift_metadata(metadata_ptr, metadata_len);
    lower_bulk_publish_result(ret, broker.bulk_publish(topic, entries, metadata));
    ret_area_ptr()
}

// subscribe: func(topic: string, metadata: metadata) -> result<u64, error>
pub unsafe fn subscribe<T: PubSub>(
    broker: &mut T,
    topic_ptr: usize,
    topic_len: usize,
    metadata_ptr: usize,
    metadata_len: usize,
) -> *mut u8 {
    let ret = begin_call();
    let topic = lift_string(topic_ptr, topic_len);
    let metadata = lift_metadata(metadata_ptr, metadata_len);
    lower_subscribe_result(ret, broker.subscribe(topic, metadata));
    ret_area_ptr()
}

// pull: func(subscription: u64, max-messages: u32, timeout-ms: u32) -> result<list<message>, error>
pub unsafe fn pull<T: PubSub>(broker: &mut T, subscription: u64, max_messages: u32, timeout_ms: u32) -> *mut u8 {
    let ret = begin_call();
    lower_pull_result(ret, broker.pull(subscription, max_messages, timeout_ms));
    ret_area_ptr()
}

// ack: func(subscription: u64, message-id: string, outcome: ack-outcome) -> result<_, error>
pub unsafe fn ack<T: PubSub>(broker: &mut T, subscription: u64, id_ptr: usize, id_len: usize, outcome: u32) -> *mut u8 {
    let ret = begin_call();
    let message_id = lift_string(id_ptr, id_len);
    let outcome = lift_ack_outcome(outcome);
    lower_unit_result(ret, broker.ack(subscription, message_id, outcome));
    ret_area_ptr()
}

// unsubscribe: func(subscription: u64) -> result<_, error>
pub unsafe fn unsubscribe<T: PubSub>(broker: &mut T, subscription: u64) -> *mut u8 {
    let ret = begin_call();
    lower_unit_result(ret, broker.unsubscribe(subscription));
    ret_area_ptr()
}

// ping: func() -> result<_, error>
pub unsafe fn ping<T: PubSub>(broker: &mut T) -> *mut u8 {
    let ret = begin_call();
    lower_unit_result(ret, broker.ping());
    ret_area_ptr()
}
