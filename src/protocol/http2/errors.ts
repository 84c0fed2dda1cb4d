/** HTTP/2 error codes (RFC 9113 §7) and the typed errors the codec raises. */

export const enum H2Code {
  NO_ERROR = 0x0,
  PROTOCOL_ERROR = 0x1,
  INTERNAL_ERROR = 0x2,
  FLOW_CONTROL_ERROR = 0x3,
  SETTINGS_TIMEOUT = 0x4,
  STREAM_CLOSED = 0x5,
  FRAME_SIZE_ERROR = 0x6,
  REFUSED_STREAM = 0x7,
  CANCEL = 0x8,
  COMPRESSION_ERROR = 0x9,
  CONNECT_ERROR = 0xa,
  ENHANCE_YOUR_CALM = 0xb,
  INADEQUATE_SECURITY = 0xc,
  HTTP_1_1_REQUIRED = 0xd,
}

/** A connection error: the whole connection ends with GOAWAY(code). */
export class H2ConnectionError extends Error {
  readonly h2code: number;
  constructor(code: number, message: string) {
    super(`http2: ${message}`);
    this.h2code = code;
    this.name = "H2ConnectionError";
  }
}

/** A stream error: only that stream ends, with RST_STREAM(code). */
export class H2StreamError extends Error {
  readonly h2code: number;
  readonly streamId: number;
  constructor(streamId: number, code: number, message: string) {
    super(`http2 stream ${streamId}: ${message}`);
    this.h2code = code;
    this.streamId = streamId;
    this.name = "H2StreamError";
  }
}

/** HPACK decoding failed: a connection error of type COMPRESSION_ERROR. */
export class HpackError extends H2ConnectionError {
  constructor(message: string) {
    super(H2Code.COMPRESSION_ERROR, `hpack: ${message}`);
    this.name = "HpackError";
  }
}
