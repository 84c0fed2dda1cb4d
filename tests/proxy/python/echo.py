"""A python3-grpcio peer of the mosn.ts gRPC proxy tests (service mosn.test.Echo, echo.proto).

No generated stubs: Msg {string text = 1; int32 n = 2;} is encoded by hand, and the service is a
generic handler, so only Debian's python3-grpcio is needed.

  echo.py server            prints {"port": N}, then one JSON line per event ({"cancelled": m});
                            runs until stdin closes.
  echo.py client HOST:PORT [CA_PEM SERVER_NAME]
                            runs every scenario and prints one JSON object with what it saw.
"""

import json
import sys
import time

import grpc

SVC = "/mosn.test.Echo/"


def _varint(v):
    v &= (1 << 64) - 1  # negative int32 is a 10-byte varint
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode(msg):
    text, n = msg
    raw = text.encode()
    out = b""
    if raw:
        out += b"\x0a" + _varint(len(raw)) + raw
    if n:
        out += b"\x10" + _varint(n)
    return out


def decode(data):
    text, n, i = "", 0, 0
    while i < len(data):
        key, i = _read_varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _read_varint(data, i)
            if field == 2:
                n = v - (1 << 64) if v >= 1 << 63 else v
        elif wire == 2:
            ln, i = _read_varint(data, i)
            if field == 1:
                text = data[i:i + ln].decode()
            i += ln
        else:
            raise ValueError("unsupported wire type %d" % wire)
    return text, n


def _read_varint(data, i):
    shift = v = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# Server: the same behaviour as tests/_support/grpc.ts startEchoServer.


def unary(req, ctx):
    text, n = req
    if text == "hang":
        # Never answers: only a cancel (the proxy's deadline) ends it.
        ctx.add_callback(lambda: emit({"cancelled": "Unary"}))
        while ctx.is_active():
            time.sleep(0.01)
        return ("", 0)
    if text == "fail":
        ctx.set_trailing_metadata((("x-detail", "why-it-failed"),
                                   ("x-bin-bin", bytes([0, 1, 2, 255]))))
        ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad input: ünïcode")
    req_md = dict(ctx.invocation_metadata())
    ctx.send_initial_metadata((("x-echo", req_md.get("x-req", "")),))
    ctx.set_trailing_metadata((("x-trail", "done"),))
    return ("echo " + text, n)


def server_stream(req, ctx):
    text, n = req
    if n < 0:
        # Endless until the client cancels; grpcio stops driving the generator then, so the
        # termination callback is what sees it.
        ctx.add_callback(lambda: emit({"cancelled": "ServerStream"}))
        i = 0
        while ctx.is_active():
            yield ("tick", i)
            i += 1
            time.sleep(0.005)
        return
    for i in range(n):
        yield ("m", i)


def client_stream(it, ctx):
    count = total = 0
    for text, n in it:
        count += 1
        total += n
    return ("sum %d" % total, count)


def bidi(it, ctx):
    for text, n in it:
        yield (text, n + 1)


def serve():
    from concurrent import futures
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary, decode, encode),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, decode, encode),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, decode, encode),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi, decode, encode),
    }
    # No deadline checks of its own: a deadline that ends a call here was the proxy's.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                         options=(("grpc.enable_deadline_checking", 0),))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("mosn.test.Echo", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    emit({"port": port})
    sys.stdin.read()  # the test closes stdin (or kills us) to stop
    server.stop(0)


# ---------------------------------------------------------------------------------------------
# Client: every scenario, one JSON report.

def _status(e):
    return {"code": e.code().name, "details": e.details(),
            "trailers": {k: (v.hex() if isinstance(v, bytes) else v)
                         for k, v in (e.trailing_metadata() or ())}}


def _channel(target, ca, server_name, options=()):
    if not ca:
        return grpc.insecure_channel(target, options=options)
    with open(ca, "rb") as f:
        creds = grpc.ssl_channel_credentials(root_certificates=f.read())
    return grpc.secure_channel(
        target, creds, options=(("grpc.ssl_target_name_override", server_name),) + options)


def run_client(target, ca=None, server_name=None):
    ch = _channel(target, ca, server_name)
    u = ch.unary_unary(SVC + "Unary", request_serializer=encode, response_deserializer=decode)
    ss = ch.unary_stream(SVC + "ServerStream", request_serializer=encode,
                         response_deserializer=decode)
    bd = ch.stream_stream(SVC + "Bidi", request_serializer=encode, response_deserializer=decode)
    report = {}

    res, call = u.with_call(("hi", 7), metadata=(("x-req", "hello-md"),), timeout=20)
    report["unary"] = {"res": list(res), "code": call.code().name,
                       "headers": dict(call.initial_metadata()),
                       "trailers": dict(call.trailing_metadata())}

    try:
        u(("fail", 0), timeout=20)
        report["fail"] = {"code": "OK"}
    except grpc.RpcError as e:
        report["fail"] = _status(e)

    count, ordered = 0, True
    for text, n in ss(("go", 10000), timeout=60):
        if n != count:
            ordered = False
        count += 1
    report["server_stream"] = {"count": count, "ordered": ordered}

    got = [n for _, n in bd(iter([("b", i) for i in range(1000)]), timeout=60)]
    report["bidi"] = {"count": len(got), "sum": sum(got), "ordered": got == list(range(1, 1001))}

    it = ss(("go", -1), timeout=60)
    seen = 0
    for _ in it:
        seen += 1
        if seen == 5:
            it.cancel()
            break
    report["cancel"] = {"seen": seen, "code": it.code().name}

    # The deadline the proxy enforces: grpcio sends it as grpc-timeout, the server never answers,
    # and this channel does not enforce it itself, so only the proxy can end the call.
    lax = _channel(target, ca, server_name, (("grpc.enable_deadline_checking", 0),))
    hang = lax.unary_unary(SVC + "Unary", request_serializer=encode,
                           response_deserializer=decode)
    t0 = time.monotonic()
    fut = hang.future(("hang", 0), timeout=0.5)
    try:
        fut.result(timeout=15)
        report["deadline"] = {"code": "OK"}
    except grpc.FutureTimeoutError:
        fut.cancel()
        report["deadline"] = {"code": "NOT ENFORCED", "details": "", "trailers": {}}
    except grpc.RpcError as e:
        report["deadline"] = _status(e)
    report["deadline"]["ms"] = int((time.monotonic() - t0) * 1000)

    lax.close()
    ch.close()
    emit(report)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve()
    else:
        run_client(*sys.argv[2:])
