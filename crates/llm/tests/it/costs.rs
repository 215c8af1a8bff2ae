//! Cost from the provider's own usage fields and the price table, including
//! cache reads and writes; an unpriced model's cost is unknown, not zero.

use steward_fake_llm::{FakeLlm, Reply, ReplyUsage};
use steward_llm::{ChatRequest, PriceTable, Protocol, Usage};

use crate::support::{model_name, priced_model, raw_model};

fn built_in_price(protocol: Protocol) -> steward_llm::ModelPrice {
    PriceTable::built_in().price_of(protocol.as_str(), model_name(protocol)).unwrap()
}

#[tokio::test]
async fn anthropic_cost_counts_cache_reads_and_writes_at_their_own_prices() {
    let fake = FakeLlm::start().await.unwrap();
    let usage =
        ReplyUsage { input_tokens: 1_000, output_tokens: 500, cache_read_tokens: 20_000, cache_write_tokens: 4_000 };
    fake.push(Reply::text("cached").with_usage(usage));
    let model = priced_model(&fake, Protocol::Anthropic, built_in_price(Protocol::Anthropic));
    let response = model
        .complete(ChatRequest::from_user_text("x").with_system("long system prompt").with_cached_system_prompt())
        .await
        .unwrap();
    assert_eq!(
        response.usage,
        Usage { input_tokens: 1_000, output_tokens: 500, cache_read_tokens: 20_000, cache_write_tokens: 4_000 }
    );
    // claude-sonnet-4-5: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million.
    let expected = (1_000.0 * 3.0 + 500.0 * 15.0 + 20_000.0 * 0.30 + 4_000.0 * 3.75) / 1e6;
    assert!((response.cost_usd.unwrap() - expected).abs() < 1e-12, "{:?} vs {expected}", response.cost_usd);
    assert_eq!(response.usage.total_input_tokens(), 25_000);
}

#[tokio::test]
async fn openai_cached_tokens_are_split_out_of_prompt_tokens() {
    let fake = FakeLlm::start().await.unwrap();
    // The fake reports prompt_tokens = 21,000 of which 20,000 cached.
    fake.push(Reply::text("cached").with_usage(ReplyUsage {
        input_tokens: 1_000,
        output_tokens: 500,
        cache_read_tokens: 20_000,
        cache_write_tokens: 0,
    }));
    let model = priced_model(&fake, Protocol::OpenAi, built_in_price(Protocol::OpenAi));
    let response = model.complete(ChatRequest::from_user_text("x")).await.unwrap();
    assert_eq!(
        response.usage,
        Usage { input_tokens: 1_000, output_tokens: 500, cache_read_tokens: 20_000, cache_write_tokens: 0 }
    );
    // gpt-4.1-mini: $0.40 in, $1.60 out, $0.10 cached per million.
    let expected = (1_000.0 * 0.40 + 500.0 * 1.60 + 20_000.0 * 0.10) / 1e6;
    assert!((response.cost_usd.unwrap() - expected).abs() < 1e-12);
}

#[tokio::test]
async fn an_unpriced_model_has_an_unknown_cost() {
    for protocol in [Protocol::Anthropic, Protocol::OpenAi] {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(Reply::text("x").with_usage(ReplyUsage {
            input_tokens: 10,
            output_tokens: 10,
            ..Default::default()
        }));
        let response = raw_model(&fake, protocol).complete(ChatRequest::from_user_text("x")).await.unwrap();
        assert_eq!(response.usage.output_tokens, 10);
        assert_eq!(response.cost_usd, None);
    }
}
