//! Model providers: one chat-model trait and its Anthropic and OpenAI implementations.
