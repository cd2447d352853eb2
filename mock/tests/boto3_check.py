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

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
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


def refused(what, call, status, code, message):
    try:
        call()
    except ClientError as e:
        expect(f"{what}: status", e.response["ResponseMetadata"]["HTTPStatusCode"], status)
        expect(f"{what}: code", e.response["Error"]["Code"], code)
        expect(f"{what}: message", e.response["Error"]["Message"], message)
        return
    raise AssertionError(f"{what}: no error")


TOOLS = {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]}
TOOL_USE = {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "t", "input": {}}}]}


def strict_refusals(client):
    # Requests Bedrock refuses take no scripted reply: the server answers with
    # the service's refusal (the rules table shared with the Rust client).
    def converse(model, messages, **kw):
        return lambda: client.converse(modelId=model, messages=messages, **kw)

    v = "ValidationException"
    refused("unknown model", converse("example.unknown-v1:0", MESSAGES),
            400, v, "The provided model identifier is invalid.")
    refused("retired model", converse("anthropic.claude-3-5-sonnet-20240620-v1:0", MESSAGES),
            404, "ResourceNotFoundException",
            "This model version has reached the end of its life. Please refer to the AWS documentation for more details.")
    refused("profile-only model on demand", converse("deepseek.r1-v1:0", MESSAGES), 400, v,
            "Invocation of model ID deepseek.r1-v1:0 with on-demand throughput isn\u2019t supported. "
            "Retry your request with the ID or ARN of an inference profile that contains this model.")
    refused("first turn from the assistant",
            converse(MODEL, [{"role": "assistant", "content": [{"text": "Hi"}]}]), 400, v,
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.")
    refused("two user turns to Claude", converse(MODEL, MESSAGES + MESSAGES), 400, v,
            "A conversation must alternate between user and assistant roles. "
            "Make sure the conversation alternates between user and assistant roles and try again.")
    refused("blank text", converse(MODEL, [{"role": "user", "content": [{"text": ""}]}]), 400, v,
            "The text field in the ContentBlock object at messages.0.content.0 is blank. Add text to the text field, and try again.")
    refused("tool blocks without toolConfig", converse(MODEL, MESSAGES + [TOOL_USE]), 400, v,
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.")
    refused("temperature 5", converse(MODEL, MESSAGES, inferenceConfig={"temperature": 5.0}), 400, v,
            "1 validation error detected: Value '5.0' at 'inferenceConfig.temperature' failed to satisfy "
            "constraint: Member must have value less than or equal to 1")
    refused("tools streamed to Llama 4",
            lambda: client.converse_stream(modelId="us.meta.llama4-maverick-17b-instruct-v1:0",
                                           messages=MESSAGES, toolConfig=TOOLS),
            400, v, "This model doesn't support tool use in streaming mode.")
    # Nova takes two user turns, as a recording shows: the default reply answers.
    out = client.converse(modelId="amazon.nova-lite-v1:0", messages=MESSAGES + MESSAGES)
    expect("Nova with two user turns", out["stopReason"], "end_turn")


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
        strict_refusals,
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
