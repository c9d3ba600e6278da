// pubsub.memory: an in-process publish/subscribe broker with consumer groups, at-least-once
// delivery (acknowledgements, visibility timeouts, redelivery), message TTLs and a bounded
// queue per topic, whose messages cross a hot swap through snapshot/restore, streamed in chunks.
#include <tessera/tessera.h>

#include "broker.h"

TESSERA_PUBSUB_MANIFEST("pubsub.memory", "v1",
                        "In-memory pub/sub broker: per-topic queues, consumer groups, at-least-once delivery with visibility timeouts, message TTLs; messages cross a hot swap (C++).",
                        "log", "clock");

TESSERA_EXPORT_STREAMING_PUBSUB(pubsub_memory::MemoryBroker);
