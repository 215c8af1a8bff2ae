#!/usr/bin/env python3
"""Points the official `anthropic` and `openai` Python SDKs at steward-fake-llm
and checks that they parse its replies: streamed and not, with tool calls,
usage, errors and embeddings.

Run by crates/fake-llm/tests/it/official_sdks.rs, which starts the fake and
scripts one reply per scenario: each request carries `scenario:<name>` in its
prompt and the Rust side answers with the reply of that name. The expected
values below must match the scripts there.

Usage: check_official_sdks.py ANTHROPIC_BASE_URL OPENAI_BASE_URL
Exit status 0 when every scenario passed; 3 when the SDKs are not installed.
"""

import base64
import json
import math
import struct
import sys
import traceback

try:
    import anthropic
    import openai
    import pydantic
except ImportError as missing:
    print(f"missing Python package: {missing.name}; run: "
          "python3 -m pip install -r crates/fake-llm/tests/sdk/requirements.txt")
    sys.exit(3)

API_KEY = "sk-fake-sdk-check"
WEATHER_TOOL_ANTHROPIC = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}
WEATHER_TOOL_OPENAI = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": WEATHER_TOOL_ANTHROPIC["input_schema"],
    },
}
EXPECTED_TEXT = "Let me check both cities."
EXPECTED_CALLS = [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Tokyo", "unit": "celsius"})]

SCENARIOS = []


def scenario(function):
    SCENARIOS.append(function)
    return function


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def anthropic_client(base_url):
    return anthropic.Anthropic(api_key=API_KEY, base_url=base_url, max_retries=0, timeout=20)


def openai_client(base_url):
    return openai.OpenAI(api_key=API_KEY, base_url=base_url, max_retries=0, timeout=20)


def check_anthropic_message(message):
    expect(message.stop_reason == "tool_use", f"stop_reason {message.stop_reason}")
    expect(message.content[0].type == "text" and message.content[0].text == EXPECTED_TEXT, f"text {message.content[0]}")
    calls = [(block.name, block.input) for block in message.content[1:]]
    expect(calls == EXPECTED_CALLS, f"tool calls {calls}")
    expect(all(block.type == "tool_use" and block.id.startswith("toolu_") for block in message.content[1:]), "tool ids")
    usage = message.usage
    expect((usage.input_tokens, usage.output_tokens) == (120, 45), f"usage {usage}")
    expect((usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (1000, 200), f"cache usage {usage}")


@scenario
def anthropic_tools_not_streamed(urls):
    message = anthropic_client(urls["anthropic"]).messages.create(
        model="claude-sonnet-4-5", max_tokens=256, tools=[WEATHER_TOOL_ANTHROPIC],
        messages=[{"role": "user", "content": "scenario:anthropic-tools Weather in Paris and Tokyo?"}])
    check_anthropic_message(message)


@scenario
def anthropic_tools_streamed(urls):
    client = anthropic_client(urls["anthropic"])
    with client.messages.stream(
            model="claude-sonnet-4-5", max_tokens=256, tools=[WEATHER_TOOL_ANTHROPIC],
            messages=[{"role": "user", "content": "scenario:anthropic-tools Weather in Paris and Tokyo?"}]) as stream:
        streamed_text = "".join(stream.text_stream)
        message = stream.get_final_message()
    expect(streamed_text == EXPECTED_TEXT, f"streamed text {streamed_text!r}")
    check_anthropic_message(message)


@scenario
def anthropic_raw_event_sequence(urls):
    events = anthropic_client(urls["anthropic"]).messages.create(
        model="claude-sonnet-4-5", max_tokens=256, stream=True,
        messages=[{"role": "user", "content": "scenario:anthropic-tools Weather?"}])
    kinds = [event.type for event in events]
    expect(kinds[0] == "message_start" and kinds[-1] == "message_stop", f"event order {kinds}")
    expect(kinds.count("content_block_start") == 3 and "message_delta" in kinds, f"event kinds {kinds}")


@scenario
def anthropic_rate_limited(urls):
    try:
        anthropic_client(urls["anthropic"]).messages.create(
            model="claude-sonnet-4-5", max_tokens=16,
            messages=[{"role": "user", "content": "scenario:rate-limited"}])
    except anthropic.RateLimitError as error:
        expect(error.status_code == 429, f"status {error.status_code}")
        expect(error.response.headers.get("retry-after") == "7", "retry-after header")
        expect(error.body["error"]["type"] == "rate_limit_error", f"body {error.body}")
        return
    raise AssertionError("no RateLimitError")


@scenario
def anthropic_overloaded(urls):
    try:
        anthropic_client(urls["anthropic"]).messages.create(
            model="claude-sonnet-4-5", max_tokens=16,
            messages=[{"role": "user", "content": "scenario:overloaded"}])
    except anthropic.InternalServerError as error:
        expect(error.status_code == 529, f"status {error.status_code}")
        expect(error.body["error"]["type"] == "overloaded_error", f"body {error.body}")
        return
    raise AssertionError("no InternalServerError")


@scenario
def anthropic_error_event_mid_stream(urls):
    text = []
    try:
        with anthropic_client(urls["anthropic"]).messages.stream(
                model="claude-sonnet-4-5", max_tokens=16,
                messages=[{"role": "user", "content": "scenario:error-mid-stream"}]) as stream:
            for piece in stream.text_stream:
                text.append(piece)
    except anthropic.APIStatusError as error:
        expect("overloaded" in str(error).lower(), f"error {error}")
        expect(text, "some text arrived before the error")
        return
    raise AssertionError("no error raised for the error event")


def check_openai_tool_calls(tool_calls):
    calls = [(call.function.name, json.loads(call.function.arguments)) for call in tool_calls]
    expect(calls == EXPECTED_CALLS, f"tool calls {calls}")
    expect(all(call.id.startswith("call_") and call.type == "function" for call in tool_calls), "tool call ids")


def check_openai_usage(usage):
    expect((usage.prompt_tokens, usage.completion_tokens) == (1320, 45), f"usage {usage}")
    expect(usage.prompt_tokens_details.cached_tokens == 1000, f"cached {usage.prompt_tokens_details}")


@scenario
def openai_tools_not_streamed(urls):
    completion = openai_client(urls["openai"]).chat.completions.create(
        model="gpt-4.1-mini", tools=[WEATHER_TOOL_OPENAI],
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": "scenario:openai-tools Weather in Paris and Tokyo?"}])
    choice = completion.choices[0]
    expect(choice.finish_reason == "tool_calls", f"finish_reason {choice.finish_reason}")
    expect(choice.message.content == EXPECTED_TEXT, f"content {choice.message.content!r}")
    check_openai_tool_calls(choice.message.tool_calls)
    check_openai_usage(completion.usage)


@scenario
def openai_tools_streamed_raw_chunks(urls):
    chunks = openai_client(urls["openai"]).chat.completions.create(
        model="gpt-4.1-mini", tools=[WEATHER_TOOL_OPENAI], stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "scenario:openai-tools Weather?"}])
    text, calls, finish, usage = [], {}, None, None
    for chunk in chunks:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            if choice.delta.content:
                text.append(choice.delta.content)
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"name": "", "arguments": ""})
                if delta.function.name:
                    call["name"] = delta.function.name
                call["arguments"] += delta.function.arguments or ""
    expect("".join(text) == EXPECTED_TEXT, f"text {''.join(text)!r}")
    got = [(calls[index]["name"], json.loads(calls[index]["arguments"])) for index in sorted(calls)]
    expect(got == EXPECTED_CALLS, f"calls {got}")
    expect(finish == "tool_calls", f"finish {finish}")
    expect(usage is not None, "usage chunk")
    check_openai_usage(usage)


@scenario
def openai_tools_streamed_with_helper(urls):
    with openai_client(urls["openai"]).chat.completions.stream(
            model="gpt-4.1-mini", tools=[WEATHER_TOOL_OPENAI],
            messages=[{"role": "user", "content": "scenario:openai-tools Weather?"}]) as stream:
        for _ in stream:
            pass
        completion = stream.get_final_completion()
    message = completion.choices[0].message
    expect(message.content == EXPECTED_TEXT, f"content {message.content!r}")
    check_openai_tool_calls(message.tool_calls)


class CityWeather(pydantic.BaseModel):
    city: str
    temperature_c: float


@scenario
def openai_structured_output_parse(urls):
    completion = openai_client(urls["openai"]).chat.completions.parse(
        model="gpt-4.1-mini", response_format=CityWeather,
        messages=[{"role": "user", "content": "scenario:structured"}])
    parsed = completion.choices[0].message.parsed
    expect(parsed == CityWeather(city="Paris", temperature_c=21.5), f"parsed {parsed}")


@scenario
def openai_structured_output_default_reply(urls):
    # Unscripted: the fake answers with an instance of the requested schema.
    completion = openai_client(urls["openai"]).chat.completions.parse(
        model="gpt-4.1-mini", response_format=CityWeather,
        messages=[{"role": "user", "content": "What is the weather in Rome?"}])
    expect(isinstance(completion.choices[0].message.parsed, CityWeather), "parsed default reply")


@scenario
def openai_rate_limited(urls):
    try:
        openai_client(urls["openai"]).chat.completions.create(
            model="gpt-4.1-mini", messages=[{"role": "user", "content": "scenario:rate-limited"}])
    except openai.RateLimitError as error:
        expect(error.status_code == 429, f"status {error.status_code}")
        expect(error.code == "rate_limit_exceeded", f"code {error.code}")
        return
    raise AssertionError("no RateLimitError")


@scenario
def openai_embeddings(urls):
    client = openai_client(urls["openai"])
    # The SDK asks for base64 by default and decodes it itself.
    default = client.embeddings.create(model="text-embedding-3-small", input=["the cat sat", "quarterly revenue"])
    expect([item.index for item in default.data] == [0, 1], "embedding indices")
    expect(all(len(item.embedding) == 256 for item in default.data), "embedding dimensions")
    floats = client.embeddings.create(model="text-embedding-3-small", input="the cat sat", encoding_format="float",
                                      dimensions=32)
    vector = floats.data[0].embedding
    expect(len(vector) == 32 and abs(math.sqrt(sum(value * value for value in vector)) - 1.0) < 1e-5, "unit vector")
    expect(default.usage.total_tokens > 0, "embedding usage")
    raw = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input="x", encoding_format="base64")
    encoded = json.loads(raw.text)["data"][0]["embedding"]
    expect(len(struct.unpack(f"<{256}f", base64.b64decode(encoded))) == 256, "base64 decodes to 256 floats")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    urls = {"anthropic": sys.argv[1], "openai": sys.argv[2]}
    print(f"anthropic {anthropic.__version__}, openai {openai.__version__}")
    failures = 0
    for check in SCENARIOS:
        try:
            check(urls)
            print(f"ok {check.__name__}")
        except Exception:  # noqa: BLE001 - report every failing scenario, not just the first
            failures += 1
            print(f"FAILED {check.__name__}\n{traceback.format_exc()}")
    print(f"sdk: {len(SCENARIOS) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
