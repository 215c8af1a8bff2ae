//! What both protocol renderers share: the per-request context (model, usage,
//! ids) and cutting text into streamed pieces.

use serde_json::Value;

use crate::received::ReceivedRequest;
use crate::script::{Reply, ReplyUsage};

/// Facts about one reply that the renderers need besides the reply itself.
#[derive(Debug, Clone)]
pub struct ReplyContext {
    /// The request's position; ids are derived from it so they are unique and
    /// deterministic.
    pub sequence: u64,
    pub model: String,
    pub usage: ReplyUsage,
    pub first_stop_sequence: Option<String>,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage_chunk: bool,
}

impl ReplyContext {
    pub fn new(request: &ReceivedRequest, reply: &Reply) -> Self {
        let model =
            reply.model.clone().or_else(|| request.model().map(str::to_owned)).unwrap_or_else(|| "fake-model".into());
        let usage = reply.usage.unwrap_or_else(|| ReplyUsage {
            input_tokens: estimate_tokens(request.prompt_char_count()),
            output_tokens: estimate_tokens(reply.output_char_count()),
            cache_read_tokens: 0,
            cache_write_tokens: 0,
        });
        let stop_field = if request.body.get("stop_sequences").is_some() { "stop_sequences" } else { "stop" };
        let first_stop_sequence = match request.body.get(stop_field) {
            Some(Value::String(single)) => Some(single.clone()),
            Some(Value::Array(many)) => many.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        let include_usage_chunk = request
            .body
            .get("stream_options")
            .and_then(|options| options.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        ReplyContext { sequence: request.sequence, model, usage, first_stop_sequence, include_usage_chunk }
    }
}

/// About four characters a token, at least one.
pub fn estimate_tokens(chars: usize) -> u64 {
    u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX).max(1)
}

/// Splits `text` into pieces of at most `chunk_chars` characters, never inside
/// a character.
pub fn chunk_text(text: &str, chunk_chars: usize) -> impl Iterator<Item = &str> {
    let chunk_chars = chunk_chars.max(1);
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.char_indices().nth(chunk_chars).map_or(rest.len(), |(byte_index, _)| byte_index);
        let (piece, remainder) = rest.split_at(end);
        rest = remainder;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_character_boundaries() {
        let pieces: Vec<&str> = chunk_text("héllo wörld", 4).collect();
        assert_eq!(pieces, ["héll", "o wö", "rld"]);
        assert_eq!(chunk_text("", 4).count(), 0);
    }
}
