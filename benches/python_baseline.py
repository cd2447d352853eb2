#!/usr/bin/env python3
"""The original Python wrapper's shape, with boto3, against the local server.

This is the baseline that bedrock-converse replaces: `converse_wrapper` below
is the function described in the Python wrapper's README (modelId, messages,
system, inferenceConfig, additionalModelRequestFields; `converse_stream` or
`converse`), and streamed replies are consumed the way its example does,
touching each delta.

`cargo bench` runs it phase by phase (items 1-3 of BENCHMARKS.md) while the
bench serves the reply each phase needs, when python3 can import boto3
(`pip install boto3`; set BEDROCK_BENCH_PYTHON=0 to skip). To run it by hand,
start a local server with the reply you want and point the script at it:

    cargo run --release --example mock_server -- --deltas 4          # prints the endpoint
    python3 benches/python_baseline.py --endpoint http://127.0.0.1:PORT --phase latency
    cargo run --release --example mock_server -- --deltas 20000 --text-bytes 640000
    python3 benches/python_baseline.py --endpoint http://127.0.0.1:PORT --phase throughput

It always uses static dummy credentials and the given endpoint (never the
default credential chain, never the instance metadata service). It prints one
JSON object as its last line.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3  # noqa: E402
import botocore  # noqa: E402
from botocore.config import Config  # noqa: E402

MODEL_ID = "anthropic.claude-3-sonnet-20240229-v1:0"
SYSTEM_PROMPT = (
    "You are an app that creates playlists for a radio station that plays rock "
    "and pop music. Only return song names and the artist."
)
INPUT_TEXT = "Create a list of 3 pop songs."


def converse_wrapper(
    bedrock_client,
    model_id,
    messages,
    system_prompts=None,
    inference_config=None,
    additional_model_fields=None,
    streaming=True,
):
    """The original wrapper: one function for both Converse APIs."""
    kwargs = {"modelId": model_id, "messages": messages}
    if system_prompts:
        kwargs["system"] = system_prompts
    if inference_config:
        kwargs["inferenceConfig"] = inference_config
    if additional_model_fields:
        kwargs["additionalModelRequestFields"] = additional_model_fields
    if streaming:
        return bedrock_client.converse_stream(**kwargs)
    return bedrock_client.converse(**kwargs)


def make_client(endpoint, pool):
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIDMOCKEXAMPLE",
        aws_secret_access_key="mock-secret-key",
        config=Config(max_pool_connections=pool, retries={"mode": "standard", "max_attempts": 3}),
    )


def call(client, streaming):
    """One call in the example's shape; returns (events, delta bytes)."""
    response = converse_wrapper(
        client,
        MODEL_ID,
        [{"role": "user", "content": [{"text": INPUT_TEXT}]}],
        system_prompts=[{"text": SYSTEM_PROMPT}],
        inference_config={"temperature": 0.5, "maxTokens": 512},
        additional_model_fields={"top_k": 200},
        streaming=streaming,
    )
    if not streaming:
        text = response["output"]["message"]["content"][0]["text"]
        return 1, len(text)
    events = 0
    nbytes = 0
    check = 0
    stopped = False
    stream = response.get("stream")
    for event in stream:
        events += 1
        if "contentBlockDelta" in event:
            text = event["contentBlockDelta"]["delta"]["text"]
            nbytes += len(text)
            check += ord(text[-1]) if text else 0
        if "messageStop" in event:
            stopped = event["messageStop"]["stopReason"] == "end_turn"
    if not stopped:
        raise RuntimeError("the stream ended without messageStop")
    return events, nbytes


def timed_calls(client, streaming, seconds):
    for _ in range(20):  # warm-up: connection, credentials, caches
        call(client, streaming)
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        call(client, streaming)
        times.append((time.perf_counter() - t) * 1e6)
    return times


def phase_latency(endpoint, args):
    client = make_client(endpoint, 10)
    stream = timed_calls(client, True, args.seconds / 2)
    whole = timed_calls(client, False, args.seconds / 2)
    return {
        "stream_median_us": statistics.median(stream),
        "stream_mean_us": statistics.fmean(stream),
        "stream_calls": len(stream),
        "converse_median_us": statistics.median(whole),
        "converse_mean_us": statistics.fmean(whole),
        "converse_calls": len(whole),
    }


def phase_throughput(endpoint, args):
    client = make_client(endpoint, 10)
    call(client, True)  # warm-up
    events_s, mb_s = [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        events, nbytes = call(client, True)
        s = time.perf_counter() - t
        events_s.append(events / s)
        mb_s.append(nbytes / s / 1e6)
    return {
        "events_per_s": statistics.median(events_s),
        "mb_per_s": statistics.median(mb_s),
        "events": events,
        "rounds": events_s,
    }


def phase_concurrency(endpoint, args):
    counts = [int(n) for n in args.threads.split(",")]
    client = make_client(endpoint, max(counts))  # boto3 clients are thread-safe
    out = {}
    for n in counts:
        done = [0] * n
        stop = threading.Event()

        def worker(i):
            while not stop.is_set():
                call(client, True)
                done[i] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        n0, t0 = sum(done), time.perf_counter()
        time.sleep(args.seconds)
        n1, t1 = sum(done), time.perf_counter()
        stop.set()
        for t in threads:
            t.join()
        out[str(n)] = (n1 - n0) / (t1 - t0)
    return {"calls_per_s": out}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="the local server, e.g. http://127.0.0.1:41234")
    parser.add_argument("--phase", choices=["latency", "throughput", "concurrency"], required=True)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,8,64")
    args = parser.parse_args()
    host = args.endpoint.split("//", 1)[-1].split(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        sys.exit("the baseline only talks to a local server (127.0.0.1)")
    phases = {"latency": phase_latency, "throughput": phase_throughput, "concurrency": phase_concurrency}
    result = phases[args.phase](args.endpoint, args)
    result["python"] = platform.python_version()
    result["boto3"] = boto3.__version__
    result["botocore"] = botocore.__version__
    print(json.dumps(result))


if __name__ == "__main__":
    main()
