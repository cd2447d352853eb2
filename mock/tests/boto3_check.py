"""boto3's bedrock-runtime client against bedrock-local.

Usage: python3 boto3_check.py URL

URL is the first line bedrock-local printed; the server must have been started
with `--script mock/examples/script.json` and not used yet, since the checks
below take that script's replies in order (then the default reply). Exits 0
printing "boto3 check OK (N scenarios)", or 1 naming what differed.
"""

import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Hi"}]}]


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: expected {want!r}, got {got!r}")


def converse_text(client):
    # Script entry 0: text with usage and latency.
    out = client.converse(modelId=MODEL, messages=MESSAGES)
    expect("text", out["output"]["message"]["content"], [{"text": "Hello from the script."}])
    expect("stopReason", out["stopReason"], "end_turn")
    expect("usage", out["usage"], {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15})
    expect("latency", out["metrics"]["latencyMs"], 42)


def converse_tool_use(client):
    # Script entry 1: text, then a tool use.
    out = client.converse(modelId=MODEL, messages=MESSAGES)
    expect("stopReason", out["stopReason"], "tool_use")
    blocks = out["output"]["message"]["content"]
    expect("first block", blocks[0], {"text": "Let me check the weather."})
    expect(
        "toolUse",
        blocks[1]["toolUse"],
        {"toolUseId": "tool-1", "name": "weather", "input": {"city": "Paris", "days": 3}},
    )


def converse_stream_events(client):
    # Script entry 2: reasoning, then text, streamed.
    out = client.converse_stream(modelId=MODEL, messages=MESSAGES)
    kinds, text, reasoning, metadata = [], "", "", None
    for event in out["stream"]:
        (kind, body), = event.items()
        kinds.append(kind)
        if kind == "contentBlockDelta":
            delta = body["delta"]
            text += delta.get("text", "")
            reasoning += delta.get("reasoningContent", {}).get("text", "")
        elif kind == "messageStop":
            expect("stopReason", body["stopReason"], "end_turn")
        elif kind == "metadata":
            metadata = body
    expect("first event", kinds[0], "messageStart")
    expect("last events", kinds[-2:], ["messageStop", "metadata"])
    if kinds.count("contentBlockDelta") < 2:
        raise AssertionError(f"expected several deltas, got {kinds}")
    expect("text", text, "42")
    expect("reasoning", reasoning, "The user wants a number.")
    if not metadata or "usage" not in metadata or "latencyMs" not in metadata["metrics"]:
        raise AssertionError(f"metadata without usage and metrics: {metadata!r}")


def converse_stream_exception(client):
    # Script entry 3: three deltas, then a modelStreamErrorException frame.
    out = client.converse_stream(modelId=MODEL, messages=MESSAGES)
    text = ""
    try:
        for event in out["stream"]:
            text += event.get("contentBlockDelta", {}).get("delta", {}).get("text", "")
    except EventStreamError as e:
        expect("exception code", e.response["Error"]["Code"], "modelStreamErrorException")
        expect("exception message", e.response["Error"]["Message"], "the model stream broke")
        expect("text before the exception", text, "partial answer")
        return
    raise AssertionError("the stream ended without the exception")


def converse_throttled(client):
    # Script entry 4: HTTP 429.
    try:
        client.converse(modelId=MODEL, messages=MESSAGES)
    except client.exceptions.ThrottlingException as e:
        expect("status", e.response["ResponseMetadata"]["HTTPStatusCode"], 429)
        expect("message", e.response["Error"]["Message"], "slow down")
        return
    except ClientError as e:
        raise AssertionError(f"expected ThrottlingException, got {e.response['Error']}")
    raise AssertionError("no error for a 429")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=sys.argv[1],
        aws_access_key_id="AKIDBOTO3CHECK",
        aws_secret_access_key="boto3-check-secret",
        # One attempt in all: botocore's `max_attempts` counts retries only, so
        # `max_attempts: 1` would retry the 429 and take the next scripted reply.
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    checks = [
        converse_text,
        converse_tool_use,
        converse_stream_events,
        converse_stream_exception,
        converse_throttled,
    ]
    for check in checks:
        try:
            check(client)
        except Exception as e:  # noqa: BLE001 - report which scenario, then stop
            print(f"boto3 check: {check.__name__} went wrong: {e!r}", file=sys.stderr)
            return 1
    print(f"boto3 check OK ({len(checks)} scenarios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
