"""moto's DynamoDB on loopback, one request at a time: the server of the keys and budget tests.

    .venv-dynamodb/bin/python tests/dynamodb/server.py --host 127.0.0.1 --port 8000

Why not `moto_server`: it runs werkzeug's server with `threaded=True`, one thread per
connection, and moto evaluates an UpdateItem's condition and applies the update without a lock
across threads. Two concurrent `committed <= :max` checks can both pass before either writes,
so a budget test that fires concurrent reservations would admit more than the budget for
reasons that are moto's, not ours. Worse, a TransactWriteItems that fails puts back a copy of
every table it touched taken before it started, erasing whatever other threads wrote meanwhile.
DynamoDB itself makes every single-item write and every transaction atomic.

So this launcher builds the same application moto_server does (`DomainDispatcherApplication`
over `create_backend_app`, with `MotoRequestHandler`) and serves it from werkzeug's
`BaseWSGIServer` (`threaded=False`, `processes=1`): one thread accepts a connection, answers its
one request and closes it before accepting the next. The handler speaks HTTP/1.0 (werkzeug's
default for a single-threaded server; pinned here so it cannot drift), so no client holds the
only thread on a keep-alive connection: each request is its own connection, and requests are
serialized in the order the kernel queued their connections (up to werkzeug's listen backlog of
128). Every request is therefore atomic, as every DynamoDB write is.

Any AWS service moto knows is routed by the request's signing scope; the tests only use
DynamoDB. Prints one line, `dynamodb server ready on http://HOST:PORT`, once the port accepts
connections.
"""

import argparse
import signal
import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


class SerialRequestHandler(MotoRequestHandler):
    """moto's request handler, one request per connection (HTTP/1.0, `Connection: close`)."""

    protocol_version = "HTTP/1.0"


class QuietRequestHandler(SerialRequestHandler):
    """The same without a log line per request (errors and tracebacks are still printed)."""

    def log_request(self, code="-", size="-"):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    parser.add_argument("--quiet", action="store_true", help="no log line per request")
    args = parser.parse_args()

    # Exit cleanly on SIGTERM as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    app = DomainDispatcherApplication(create_backend_app)
    # What `run_simple(host, port, app, threaded=False)` does, minus reloader and debugger, split
    # so the ready line is printed after the socket listens and before the first request.
    server = make_server(
        args.host,
        args.port,
        app,
        threaded=False,
        processes=1,
        request_handler=QuietRequestHandler if args.quiet else SerialRequestHandler,
    )
    assert not server.multithread and not server.multiprocess, "the server must be single-threaded"
    host, port = server.server_address[:2]
    print(f"dynamodb server ready on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
