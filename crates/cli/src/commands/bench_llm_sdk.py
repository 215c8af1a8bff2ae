"""The Python half of `steward bench llm`: reads streamed replies from the
fake provider with the official SDKs and reports the CPU time each read took.

Usage: bench_llm_sdk.py ANTHROPIC_BASE_URL OPENAI_BASE_URL RUNS
Prints one JSON object: SDK versions and, per reader, a list of CPU seconds.
"""

import json
import sys
import time

import anthropic
import openai


def measure(read, runs):
    read()  # warm-up: imports, connection, first-call caches
    seconds = []
    for _ in range(runs):
        started = time.process_time()
        read()
        seconds.append(time.process_time() - started)
    return seconds


def main():
    anthropic_url, openai_url, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    claude = anthropic.Anthropic(api_key="sk-bench", base_url=anthropic_url, max_retries=0)
    gpt = openai.OpenAI(api_key="sk-bench", base_url=openai_url, max_retries=0)
    messages = [{"role": "user", "content": "benchmark"}]

    def anthropic_raw_events():
        text = []
        for event in claude.messages.create(model="claude-sonnet-4-5", max_tokens=4096, messages=messages, stream=True):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text.append(event.delta.text)
        return "".join(text)

    def anthropic_stream_helper():
        with claude.messages.stream(model="claude-sonnet-4-5", max_tokens=4096, messages=messages) as stream:
            for _ in stream.text_stream:
                pass
            return stream.get_final_message()

    def openai_raw_chunks():
        text = []
        chunks = gpt.chat.completions.create(model="gpt-4.1-mini", messages=messages, stream=True,
                                             stream_options={"include_usage": True})
        for chunk in chunks:
            for choice in chunk.choices:
                if choice.delta.content:
                    text.append(choice.delta.content)
        return "".join(text)

    def openai_stream_helper():
        with gpt.chat.completions.stream(model="gpt-4.1-mini", messages=messages) as stream:
            for _ in stream:
                pass
            return stream.get_final_completion()

    result = {
        "versions": {"anthropic": anthropic.__version__, "openai": openai.__version__, "python": sys.version.split()[0]},
        "anthropic_raw_events": measure(anthropic_raw_events, runs),
        "anthropic_stream_helper": measure(anthropic_stream_helper, runs),
        "openai_raw_chunks": measure(openai_raw_chunks, runs),
        "openai_stream_helper": measure(openai_stream_helper, runs),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
