"""The AWS CLI's `aws bedrock-runtime` against bedrock-local.

Usage: python3 cli_check.py URL [AWS]

URL is the first line bedrock-local printed; the server must have been started
with `--script mock/tests/clients_script.json` and not used yet, since the
checks below take that script's replies in order. AWS is the `aws` program to
run (default: `aws` on the PATH). Exits 0 printing "AWS CLI check OK (N
scenarios)", or 1 naming what differed.

The AWS CLI has no `converse-stream` command (neither v1, installed from pip,
nor v2: https://docs.aws.amazon.com/cli/latest/reference/bedrock-runtime/
lists converse and count-tokens, and no event-stream operation), so the
streamed replies and the mid-stream exception are the JavaScript SDK's and
boto3's checks only.
"""

import json
import os
import subprocess
import sys
import tempfile

CLAUDE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "amazon.nova-lite-v1:0"
MESSAGES = json.dumps([{"role": "user", "content": [{"text": "Hi"}]}])


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: expected {want!r}, got {got!r}")


class Cli:
    def __init__(self, url, aws):
        self.url, self.aws = url, aws
        home = tempfile.mkdtemp(prefix="cli-check-")
        # Static dummy credentials, no config or credentials file of the
        # machine's, no instance metadata, and one attempt in all (a retried
        # 429 would take the next scripted reply).
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "AWS_CONFIG_FILE": os.path.join(home, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
            "AWS_ACCESS_KEY_ID": "AKIDCLICHECK",
            "AWS_SECRET_ACCESS_KEY": "cli-check-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "AWS_PAGER": "",
        }

    def run(self, *args, endpoint_flag=True, extra_env=None):
        """Runs `aws bedrock-runtime ARGS`: (exit status, stdout, stderr)."""
        cmd = [self.aws, "bedrock-runtime", *args, "--output", "json"]
        if endpoint_flag:
            cmd += ["--endpoint-url", self.url]
        env = dict(self.env, **(extra_env or {}))
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout, done.stderr

    def converse(self, model, **kw):
        code, out, err = self.run("converse", "--model-id", model, "--messages", MESSAGES, **kw)
        if code != 0:
            raise AssertionError(f"aws exited {code}: {err.strip()}")
        return json.loads(out)


def converse_claude(cli):
    # Script entry 0.
    out = cli.converse(CLAUDE)
    expect("content", out["output"]["message"]["content"], [{"text": "Hello from the script."}])
    expect("stopReason", out["stopReason"], "end_turn")
    expect("usage", out["usage"], {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15})
    expect("latency", out["metrics"]["latencyMs"], 42)


def converse_nova(cli):
    # Script entry 1.
    out = cli.converse(NOVA)
    expect("content", out["output"]["message"]["content"], [{"text": "Nova says hello, in parts."}])
    expect("usage", out["usage"], {"inputTokens": 7, "outputTokens": 6, "totalTokens": 13})


def converse_tool_use(cli):
    # Script entry 2: text, then a tool use.
    out = cli.converse(CLAUDE)
    expect("stopReason", out["stopReason"], "tool_use")
    expect(
        "content",
        out["output"]["message"]["content"],
        [
            {"text": "Let me check the weather."},
            {"toolUse": {"toolUseId": "tool-1", "name": "weather", "input": {"city": "Paris", "days": 3}}},
        ],
    )


def converse_throttled(cli):
    # Script entry 3: HTTP 429, tried once.
    code, out, err = cli.run("converse", "--model-id", NOVA, "--messages", MESSAGES)
    if code == 0:
        raise AssertionError(f"no error for a 429: {out}")
    for needle in ["(ThrottlingException)", "Converse operation", "slow down"]:
        if needle not in err:
            raise AssertionError(f"{needle!r} not in the error: {err.strip()}")


def one_attempt_then_the_next_reply(cli):
    # Script entry 4 (as entry 0): the 429 above was not retried, else this
    # would be entry 5. The endpoint comes from the environment this time.
    out = cli.converse(
        CLAUDE,
        endpoint_flag=False,
        extra_env={"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": cli.url},
    )
    expect("content", out["output"]["message"]["content"], [{"text": "Hello from the script."}])


def count_tokens(cli):
    # No scripted reply: the server counts the words of the messages.
    request = json.dumps({"converse": {"messages": [{"role": "user", "content": [{"text": "one two three"}]}]}})
    code, out, err = cli.run("count-tokens", "--model-id", CLAUDE, "--input", request)
    if code != 0:
        raise AssertionError(f"aws exited {code}: {err.strip()}")
    expect("inputTokens", json.loads(out), {"inputTokens": 3})


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    cli = Cli(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "aws")
    checks = [
        converse_claude,
        converse_nova,
        converse_tool_use,
        converse_throttled,
        one_attempt_then_the_next_reply,
        count_tokens,
    ]
    for check in checks:
        try:
            check(cli)
        except Exception as e:  # noqa: BLE001 - report which scenario, then stop
            print(f"AWS CLI check: {check.__name__} went wrong: {e!r}", file=sys.stderr)
            return 1
    print(f"AWS CLI check OK ({len(checks)} scenarios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
