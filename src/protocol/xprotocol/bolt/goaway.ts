/**
 * Bolt GoAway (MOSN's extension, opt-in by `enable_bolt_goaway`): a bolt v1 request frame with
 * cmd code 100 (MOSN numbers control commands from 100), request id 0 and no class, header or
 * content. A draining server sends it so that clients that know it stop sending on the
 * connection and open a new one; clients that do not know it may ignore it or drop the
 * connection.
 */

export const BOLT_CMD_GOAWAY = 100;

/** The 22-byte GoAway frame. */
export function encodeBoltGoAway(): Uint8Array {
  const b = new Uint8Array(22);
  const v = new DataView(b.buffer);
  b[0] = 1; // protocol: bolt v1
  b[1] = 1; // type: request
  v.setUint16(2, BOLT_CMD_GOAWAY);
  b[4] = 1; // ver2
  v.setUint32(5, 0); // request id
  b[9] = 1; // codec: hessian2
  // timeout (i32), class, header and content lengths stay 0.
  return b;
}
