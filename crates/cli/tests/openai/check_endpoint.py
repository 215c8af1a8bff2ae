"""Drives Steward's OpenAI-compatible endpoint with the official `openai`
Python SDK (crates/fake-llm/tests/sdk/requirements.txt pins it).

Usage: check_endpoint.py BASE_URL TOKEN AGENT

Each check asserts what a client of the SDK relies on and prints one JSON
line describing what it saw, for the Rust test to check against the
server's own records.
"""

import json
import sys

import openai

base_url, token, agent = sys.argv[1], sys.argv[2], sys.argv[3]
client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=token, max_retries=0, timeout=60)
seen = {}

# The agents are the models.
models = [model.id for model in client.models.list()]
assert agent in models, models
assert client.models.retrieve(agent).id == agent
seen["models"] = models

# A whole answer.
whole = client.chat.completions.create(model=agent, messages=[{"role": "user", "content": "Hello there"}])
assert whole.object == "chat.completion", whole
assert whole.choices[0].message.role == "assistant"
assert whole.choices[0].finish_reason == "stop", whole.choices[0]
assert whole.usage.prompt_tokens > 0 and whole.usage.completion_tokens > 0, whole.usage
assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens
seen["whole"] = {
    "content": whole.choices[0].message.content,
    "run_id": whole.model_extra["steward"]["run_id"],
    "usage": whole.usage.total_tokens,
}

# A streamed answer, with a tool call in between and the usage at the end.
stream = client.chat.completions.create(
    model=agent,
    stream=True,
    stream_options={"include_usage": True},
    messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": [{"type": "text", "text": "Please use a tool now"}]},
    ],
)
content, progress, finish, usage, run_ids = "", [], None, None, set()
for chunk in stream:
    run_ids.add(chunk.model_extra["steward"]["run_id"])
    if chunk.usage is not None:
        usage = chunk.usage.total_tokens
    for choice in chunk.choices:
        content += choice.delta.content or ""
        finish = choice.finish_reason or finish
    note = chunk.model_extra["steward"].get("progress")
    if note:
        progress.append(note)
assert finish == "stop", finish
assert usage and usage > 0, usage
assert len(run_ids) == 1, run_ids
seen["stream"] = {"content": content, "progress": progress, "run_id": run_ids.pop(), "usage": usage}

# A tool call that needs a person's approval ends the completion with a note;
# the test approves it and finds the answer in the agent's chat.
paused = client.chat.completions.create(model=agent, messages=[{"role": "user", "content": "Please write a file"}])
assert paused.model_extra["steward"]["status"] == "awaiting_approval", paused
assert "waits for a person" in paused.choices[0].message.content, paused.choices[0].message.content
seen["paused_run_id"] = paused.model_extra["steward"]["run_id"]

# Refusals in OpenAI's shape, as the SDK's exceptions.
try:
    client.chat.completions.create(model="no such agent", messages=[{"role": "user", "content": "Hi"}])
    raise AssertionError("an unknown model was accepted")
except openai.NotFoundError as error:
    assert error.code == "model_not_found", error.body
    assert error.param == "model", error.body
    seen["unknown_model"] = error.message

try:
    client.chat.completions.create(
        model=agent,
        messages=[{"role": "user", "content": "Hi"}],
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    )
    raise AssertionError("client-side tools were accepted")
except openai.UnprocessableEntityError as error:
    assert error.param == "tools", error.body
    seen["client_tools"] = error.message

stranger = openai.OpenAI(base_url=f"{base_url}/v1", api_key="stw_not_a_real_token", max_retries=0)
try:
    stranger.models.list()
    raise AssertionError("an unknown token was accepted")
except openai.AuthenticationError as error:
    assert error.code == "invalid_api_key", error.body
    seen["bad_token"] = error.status_code

print(json.dumps(seen))
