// The AWS SDK for JavaScript v3's Bedrock Runtime client against bedrock-local,
// with the client's DEFAULT request handler (HTTP/2 with prior knowledge to an
// http:// endpoint).
//
// Usage: node js_check.mjs URL
//
// URL is the first line bedrock-local printed; the server must have been
// started with `--script mock/tests/clients_script.json` and not used yet,
// since the checks below take that script's replies in order. Exits 0 printing
// "JavaScript SDK check OK (N scenarios)", or 1 naming what differed.

import assert from "node:assert/strict";

import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import { NodeHttp2Handler } from "@smithy/node-http-handler";

const CLAUDE = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA = "amazon.nova-lite-v1:0";
const MESSAGES = [{ role: "user", content: [{ text: "Hi" }] }];
const WEATHER = {
  toolUseId: "tool-1",
  name: "weather",
  input: { city: "Paris", days: 3 },
};

const url = process.argv[2];
if (!url) {
  console.error("usage: node js_check.mjs URL");
  process.exit(2);
}

const client = new BedrockRuntimeClient({
  region: "us-east-1",
  endpoint: url,
  credentials: { accessKeyId: "AKIDJSCHECK", secretAccessKey: "js-check-secret" },
  // One attempt in all, so that a retried 429 takes no further scripted reply.
  maxAttempts: 1,
});

/// A streamed reply, gathered: the event kinds in order, the text, the tool
/// uses (their input deltas joined and parsed), the stop reason and metadata.
async function stream(modelId) {
  const out = await client.send(new ConverseStreamCommand({ modelId, messages: MESSAGES }));
  const got = { kinds: [], text: "", tools: [], stopReason: undefined, metadata: undefined };
  let tool;
  for await (const event of out.stream) {
    const [kind] = Object.keys(event);
    got.kinds.push(kind);
    const body = event[kind];
    if (kind === "contentBlockStart" && body.start?.toolUse) {
      tool = { ...body.start.toolUse, json: "" };
    } else if (kind === "contentBlockDelta") {
      got.text += body.delta.text ?? "";
      if (body.delta.toolUse) tool.json += body.delta.toolUse.input;
    } else if (kind === "contentBlockStop" && tool) {
      got.tools.push({ toolUseId: tool.toolUseId, name: tool.name, input: JSON.parse(tool.json) });
      tool = undefined;
    } else if (kind === "messageStop") {
      got.stopReason = body.stopReason;
    } else if (kind === "metadata") {
      got.metadata = body;
    }
  }
  return got;
}

const checks = {
  async defaultHandlerIsHttp2() {
    // The point of this check: the client as shipped, not an HTTP/1.1 handler.
    assert.ok(
      client.config.requestHandler instanceof NodeHttp2Handler,
      `default handler: ${client.config.requestHandler?.constructor?.name}`,
    );
  },
  // Script entries 0 and 1: one text reply for each of two model families.
  async converseClaude() {
    const out = await client.send(new ConverseCommand({ modelId: CLAUDE, messages: MESSAGES }));
    assert.deepEqual(out.output.message.content, [{ text: "Hello from the script." }]);
    assert.equal(out.stopReason, "end_turn");
    assert.deepEqual(out.usage, { inputTokens: 10, outputTokens: 5, totalTokens: 15 });
    assert.equal(out.metrics.latencyMs, 42);
  },
  async converseNova() {
    const out = await client.send(new ConverseCommand({ modelId: NOVA, messages: MESSAGES }));
    assert.deepEqual(out.output.message.content, [{ text: "Nova says hello, in parts." }]);
    assert.deepEqual(out.usage, { inputTokens: 7, outputTokens: 6, totalTokens: 13 });
    assert.equal(out.metrics.latencyMs, 17);
  },
  // Script entry 2: text, then a tool use.
  async converseToolUse() {
    const out = await client.send(new ConverseCommand({ modelId: CLAUDE, messages: MESSAGES }));
    assert.equal(out.stopReason, "tool_use");
    assert.deepEqual(out.output.message.content, [
      { text: "Let me check the weather." },
      { toolUse: WEATHER },
    ]);
  },
  // Script entry 3: HTTP 429.
  async converseThrottled() {
    await assert.rejects(
      client.send(new ConverseCommand({ modelId: NOVA, messages: MESSAGES })),
      (e) => {
        assert.equal(e.name, "ThrottlingException");
        assert.equal(e.$metadata.httpStatusCode, 429);
        assert.equal(e.message, "slow down");
        return true;
      },
    );
  },
  // Script entries 4 and 5: the same replies as 0 and 1, streamed.
  async streamClaude() {
    const got = await stream(CLAUDE);
    assert.equal(got.kinds[0], "messageStart");
    assert.deepEqual(got.kinds.slice(-2), ["messageStop", "metadata"]);
    assert.equal(got.kinds.filter((k) => k === "contentBlockDelta").length, 3, got.kinds.join());
    assert.equal(got.text, "Hello from the script.");
    assert.equal(got.stopReason, "end_turn");
    assert.deepEqual(got.metadata.usage, { inputTokens: 10, outputTokens: 5, totalTokens: 15 });
    assert.equal(got.metadata.metrics.latencyMs, 42);
  },
  async streamNova() {
    const got = await stream(NOVA);
    assert.equal(got.kinds.filter((k) => k === "contentBlockDelta").length, 4, got.kinds.join());
    assert.equal(got.text, "Nova says hello, in parts.");
    assert.deepEqual(got.metadata.usage, { inputTokens: 7, outputTokens: 6, totalTokens: 13 });
  },
  // Script entry 6: the tool use of entry 2, its input streamed in pieces.
  async streamToolUse() {
    const got = await stream(NOVA);
    assert.equal(got.text, "Let me check the weather.");
    assert.deepEqual(got.tools, [WEATHER]);
    assert.equal(got.stopReason, "tool_use");
  },
  // Script entry 7: three deltas, then a modelStreamErrorException frame.
  async streamException() {
    const out = await client.send(new ConverseStreamCommand({ modelId: CLAUDE, messages: MESSAGES }));
    let text = "";
    await assert.rejects(
      (async () => {
        for await (const event of out.stream) text += event.contentBlockDelta?.delta?.text ?? "";
      })(),
      (e) => {
        assert.equal(e.name, "ModelStreamErrorException");
        assert.equal(e.message, "the model stream broke");
        return true;
      },
    );
    assert.equal(text, "partial answer");
  },
};

let n = 0;
for (const [name, check] of Object.entries(checks)) {
  try {
    await check();
    n += 1;
  } catch (e) {
    console.error(`JavaScript SDK check: ${name} went wrong:`, e);
    client.destroy();
    process.exit(1);
  }
}
client.destroy();
console.log(`JavaScript SDK check OK (${n} scenarios)`);
