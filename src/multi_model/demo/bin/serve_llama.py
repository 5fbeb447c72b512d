"""Serve a GGUF model with llama.cpp's own HTTP server (the `xllamacpp` wheel), on 127.0.0.1.

Run by `multi_model.demo.llama` with the Python of the server's private environment (stdlib
and xllamacpp only; never imported by the package):

    python serve_llama.py MODEL.gguf [--port 0] [--parallel 3] [--threads 2] [--ctx 6144]
        [--n-predict 512] [--alias NAME] [--api-key KEY] [--max-seconds 900]

Prints `LISTENING <url>` once the server accepts connections, then serves until SIGTERM or
SIGINT, `--max-seconds`, or its parent process going away (checked every second), whichever
comes first: it never outlives the run that started it by more than about a second.
`--ctx` is the total context, split between the `--parallel` slots; `--n-predict` caps a
request that sends no `max_tokens` (llama.cpp's default is to fill the slot's context).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time

import xllamacpp


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--parallel", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=6144)
    ap.add_argument("--n-predict", type=int, default=512)
    ap.add_argument("--alias", default="smollm2")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--max-seconds", type=float, default=900.0)
    args = ap.parse_args()
    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = args.port  # 0: the OS picks a free port; listening_address has it
    params.n_parallel = args.parallel
    params.n_ctx = args.ctx
    params.n_predict = args.n_predict
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.model_alias = {args.alias}  # a set: a plain str would become a set of characters
    if args.api_key:
        params.api_keys = [args.api_key]
    parent, deadline = os.getppid(), time.monotonic() + args.max_seconds
    server = xllamacpp.Server(params)  # loads the model, serves from background threads
    print("LISTENING " + server.listening_address, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        if os.getppid() != parent or time.monotonic() > deadline:
            break
    del server  # its destructor stops the HTTP threads and the main loop


if __name__ == "__main__":
    main()
