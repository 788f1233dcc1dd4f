"""An S3-protocol server on loopback for runlens's object-storage tests: moto's server
(PyPI `moto[server]`), with its requests serialised.

moto checks a conditional write (`If-None-Match: *`) and then stores the object in two
steps; with its default threaded server two writers racing for one key could both pass
the check. Amazon S3 (and MinIO, R2, ...) make that check atomic per key, which is what
runlens's commit protocol relies on; serialising moto's requests gives it the same
guarantee. Everything else is moto as a user would run it (`moto_server -p PORT`).

Usage: python3 moto_server.py PORT [LATENCY_MS]

LATENCY_MS (benchmarks only, default 0) delays each response by that many milliseconds
outside the lock, as a round trip to a remote bucket would: concurrent requests wait
together, as they do on a real network.
"""

import sys
import threading
import time

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


def serialised(app, latency_s=0.0):
    lock = threading.Lock()

    def handle(environ, start_response):
        if latency_s:
            time.sleep(latency_s)
        with lock:
            # The whole response is produced under the lock (moto's bodies are in memory).
            return list(app(environ, start_response))

    return handle


def main():
    port = int(sys.argv[1])
    latency_s = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, serialised(app, latency_s), threaded=True)


if __name__ == "__main__":
    main()
