//! Embeddings over `POST /v1/embeddings`, with retries and cost.

use steward_fake_llm::{FakeLlm, Fault};
use steward_llm::{
    EmbeddingModel, ErrorKind, PriceTable, Protocol, RecordingSleeper, Retrier, RetryPolicy, RetryingEmbeddingModel,
};

use crate::support::{provider_for, test_timeouts};

#[tokio::test]
async fn texts_become_one_unit_vector_each_in_input_order() {
    let fake = FakeLlm::start().await.unwrap();
    let provider = provider_for(&fake, Protocol::OpenAi, test_timeouts());
    let price = PriceTable::built_in().price_of("openai", "text-embedding-3-small");
    let raw = provider.embedding_model("text-embedding-3-small", price).unwrap();
    let sleeper = RecordingSleeper::new();
    let model = RetryingEmbeddingModel::new(raw, Retrier::new(RetryPolicy::default()).with_sleeper(sleeper.clone()));
    fake.push(Fault::rate_limited(2));

    let inputs = vec!["the cat sat on the mat".to_owned(), "a cat on a mat".to_owned(), "quarterly revenue".to_owned()];
    let embeddings = model.embed(&inputs).await.unwrap();
    assert_eq!(sleeper.delays(), vec![std::time::Duration::from_secs(2)]);
    assert_eq!(embeddings.vectors.len(), 3);
    assert!(embeddings.vectors.iter().all(|vector| vector.len() == steward_fake_llm::DEFAULT_EMBEDDING_DIMENSIONS));
    let cosine = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!(
        cosine(&embeddings.vectors[0], &embeddings.vectors[1]) > cosine(&embeddings.vectors[0], &embeddings.vectors[2])
    );
    assert!(embeddings.input_tokens > 0);
    let expected = embeddings.input_tokens as f64 * 0.02 / 1e6;
    assert!((embeddings.cost_usd.unwrap() - expected).abs() < 1e-15);

    let sent = fake.requests().last().unwrap().body.clone();
    assert_eq!(sent["encoding_format"], "float");
    assert_eq!(sent["input"][2], "quarterly revenue");
}

#[tokio::test]
async fn anthropic_has_no_embeddings() {
    let fake = FakeLlm::start().await.unwrap();
    let provider = provider_for(&fake, Protocol::Anthropic, test_timeouts());
    assert_eq!(provider.embedding_model("x", None).unwrap_err().kind(), ErrorKind::NotConfigured);
}
