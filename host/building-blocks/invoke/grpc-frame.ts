// gRPC's length-prefixed message on the wire: a compressed flag (0: not compressed), the
// length as a 32-bit big-endian number, then the message. The two places that speak gRPC's
// unary wire format themselves (the internal CallLocal client, and the raw server of
// api/grpc/raw-unary.ts) frame their messages here.

/** The bytes of one uncompressed gRPC message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, 5);
  return frame;
}
