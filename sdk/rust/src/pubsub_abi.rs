// The canonical ABI of the WIT interface `pubsub`, with the memory discipline of abi.rs.
// Layouts (bytes; as host/sandbox/abi-layout.ts computes them):
// - publish-request / bulk-publish-entry, 36: topic or entry-id 0, data 8, content-type
//   option<string> 16 (discriminant 16, ptr 20, len 24), metadata 28;
// - bulk-publish-failure, 16: entry-id 0, error 8;
// - message, 44: id 0, topic 8, data 16, content-type 24 (discriminant 24, ptr 28, len 32),
//   metadata 36;
// - result<u64, error>, 24 and alignment 8, the one aggregate here not aligned to 4: the
//   discriminant at 0, then the u64 or the error at 8;
// - result<list<_>, error>, 16: discriminant 0, the list or the error at 4.
use crate::abi::{
    byte, check_discriminant, keep_bytes, keep_words, lift_bytes, lift_metadata, lift_option_string, lift_string,
    lower_error, lower_metadata, lower_option_string, word,
};
use crate::pubsub::{AckOutcome, BulkPublishEntry, BulkPublishFailure, Message, PublishRequest};
use crate::types::Error;
use alloc::vec::Vec;

pub(crate) const BULK_PUBLISH_ENTRY_SIZE: usize = 36;

/// The flat form of a publish-request (9 values).
pub(crate) unsafe fn lift_publish_request(
    topic: (usize, usize),
    data: (usize, usize),
    content_type: (u32, usize, usize),
    metadata: (usize, usize),
) -> PublishRequest {
    PublishRequest {
        topic: lift_string(topic.0, topic.1),
        data: lift_bytes(data.0, data.1),
        content_type: lift_option_string(content_type.0, content_type.1, content_type.2),
        metadata: lift_metadata(metadata.0, metadata.1),
    }
}

/// bulk-publish-entry: entry-id 0, data 8, content-type 16, metadata 28.
pub(crate) unsafe fn load_bulk_publish_entry(p: usize) -> BulkPublishEntry {
    BulkPublishEntry {
        entry_id: lift_string(word(p), word(p + 4)),
        data: lift_bytes(word(p + 8), word(p + 12)),
        content_type: lift_option_string(byte(p + 16), word(p + 20), word(p + 24)),
        metadata: lift_metadata(word(p + 28), word(p + 32)),
    }
}

pub(crate) fn lift_ack_outcome(value: u32) -> AckOutcome {
    match check_discriminant(value, 3, "ack-outcome") {
        0 => AckOutcome::Success,
        1 => AckOutcome::Retry,
        _ => AckOutcome::Drop,
    }
}

/// result<u64, error>: 6 words; discriminant, padding, then the u64 (low word first) or the error.
pub(crate) unsafe fn lower_subscribe_result(out: &mut [u32], result: Result<u64, Error>) {
    out[..6].fill(0);
    match result {
        Ok(id) => {
            out[2] = id as u32;
            out[3] = (id >> 32) as u32;
        }
        Err(error) => {
            out[0] = 1;
            lower_error(&mut out[2..5], error);
        }
    }
}

/// result<list<message>, error>: 4 words; a message is 11 words: id 0, topic 2, data 4,
/// content-type 6, metadata 9.
pub(crate) unsafe fn lower_pull_result(out: &mut [u32], result: Result<Vec<Message>, Error>) {
    match result {
        Ok(messages) => {
            out[0] = 0;
            let len = messages.len();
            let mut words = alloc::vec![0u32; 11 * len];
            for (at, message) in words.chunks_exact_mut(11).zip(messages) {
                keep_bytes(&mut at[0..2], message.id.into_bytes());
                keep_bytes(&mut at[2..4], message.topic.into_bytes());
                keep_bytes(&mut at[4..6], message.data);
                lower_option_string(&mut at[6..9], message.content_type);
                lower_metadata(&mut at[9..11], message.metadata);
            }
            keep_words(&mut out[1..3], words, len);
        }
        Err(error) => {
            out[0] = 1;
            lower_error(&mut out[1..4], error);
        }
    }
}

/// result<list<bulk-publish-failure>, error>: 4 words; a failure is 4 words: entry-id 0, error 2.
pub(crate) unsafe fn lower_bulk_publish_result(out: &mut [u32], result: Result<Vec<BulkPublishFailure>, Error>) {
    match result {
        Ok(failures) => {
            out[0] = 0;
            let len = failures.len();
            let mut words = alloc::vec![0u32; 4 * len];
            for (at, failure) in words.chunks_exact_mut(4).zip(failures) {
                keep_bytes(&mut at[0..2], failure.entry_id.into_bytes());
                keep_bytes(&mut at[2..4], failure.error.into_bytes());
            }
            keep_words(&mut out[1..3], words, len);
        }
        Err(error) => {
            out[0] = 1;
            lower_error(&mut out[1..4], error);
        }
    }
}
