//! Sentence-transformers models on the CPU (feature `local-embeddings`): a
//! directory with `config.json` (a BERT), `model.safetensors` and
//! `tokenizer.json` is loaded once; texts go through the BERT encoder, are
//! mean-pooled over their attention mask and L2-normalised, as
//! sentence-transformers does for models such as all-MiniLM-L6-v2. Nothing is
//! ever downloaded: the directory is the whole model. Configured as
//! `local:/path/to/dir` wherever an embedding model is named.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::error::{ErrorKind, LlmError};
use crate::model::{EmbeddingModel, Embeddings, ModelId};

/// Texts encoded in one forward pass; bounds memory on long batches.
const BATCH: usize = 32;
/// sentence-transformers' default when the directory does not say.
const DEFAULT_MAX_TOKENS: usize = 256;

/// An embedding model run in-process on the CPU.
#[derive(Clone)]
pub struct LocalEmbeddingModel {
    id: ModelId,
    encoder: Arc<Encoder>,
}

struct Encoder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for LocalEmbeddingModel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("LocalEmbeddingModel").field("id", &self.id).finish_non_exhaustive()
    }
}

fn load_error(dir: &Path, message: impl std::fmt::Display) -> LlmError {
    LlmError::not_configured(format!("the local embedding model in {} cannot be loaded: {message}", dir.display()))
}

/// The sequence length the model was trained with (`sentence_bert_config.json`),
/// capped by its position embeddings.
fn max_tokens(dir: &Path, config: &Config) -> usize {
    let stated = std::fs::read_to_string(dir.join("sentence_bert_config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| value["max_seq_length"].as_u64())
        .map_or(DEFAULT_MAX_TOKENS, |value| value as usize);
    stated.min(config.max_position_embeddings)
}

impl LocalEmbeddingModel {
    /// Loads the model in `dir`. Its id is `local/<directory name>`.
    pub fn load(dir: &Path) -> Result<Self, LlmError> {
        let read = |name: &str| -> Result<PathBuf, LlmError> {
            let path = dir.join(name);
            if path.is_file() { Ok(path) } else { Err(load_error(dir, format!("{name} is missing"))) }
        };
        let config_text = std::fs::read_to_string(read("config.json")?).map_err(|error| load_error(dir, error))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|error| load_error(dir, format!("config.json: {error}")))?;
        let mut tokenizer = Tokenizer::from_file(read("tokenizer.json")?).map_err(|error| load_error(dir, error))?;
        let truncation = TruncationParams { max_length: max_tokens(dir, &config), ..TruncationParams::default() };
        tokenizer.with_truncation(Some(truncation)).map_err(|error| load_error(dir, error))?;
        let padding = tokenizer.get_padding().cloned().unwrap_or_default();
        tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..padding }));
        let device = Device::Cpu;
        // Read whole rather than memory-mapped: a mapping needs unsafe code,
        // and a small sentence model is a few tens of megabytes.
        let weights = std::fs::read(read("model.safetensors")?).map_err(|error| load_error(dir, error))?;
        let builder = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|error| load_error(dir, error))?;
        let model = BertModel::load(builder, &config).map_err(|error| load_error(dir, error))?;
        let name = dir.file_name().map_or_else(|| dir.display().to_string(), |name| name.to_string_lossy().into());
        Ok(LocalEmbeddingModel {
            id: ModelId::new("local", name),
            encoder: Arc::new(Encoder { model, tokenizer, device }),
        })
    }

    /// Embeds texts on the calling thread (the trait method moves this to a
    /// blocking thread). Returns the vectors and the number of tokens read.
    pub fn embed_blocking(&self, inputs: &[String]) -> Result<(Vec<Vec<f32>>, u64), LlmError> {
        let failure = |error: &dyn std::fmt::Display| {
            LlmError::new(ErrorKind::InvalidRequest, self.id.to_string(), error.to_string())
        };
        // Similar lengths share a batch, so little of each batch is padding.
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by_key(|&index| inputs[index].len());
        let mut vectors = vec![Vec::new(); inputs.len()];
        let mut tokens = 0u64;
        for chunk in order.chunks(BATCH) {
            let texts: Vec<&str> = chunk.iter().map(|&index| inputs[index].as_str()).collect();
            let (batch, read) = self.encoder.embed_batch(&texts).map_err(|error| failure(&error))?;
            tokens += read;
            for (&index, vector) in chunk.iter().zip(batch) {
                vectors[index] = vector;
            }
        }
        Ok((vectors, tokens))
    }
}

/// Whatever tokenizers or candle report while encoding.
type EncodeError = Box<dyn std::error::Error + Send + Sync>;

impl Encoder {
    fn embed_batch(&self, texts: &[&str]) -> Result<(Vec<Vec<f32>>, u64), EncodeError> {
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true)?;
        let rows = encodings.len();
        let columns = encodings.first().map_or(0, |encoding| encoding.len());
        let flat = |pick: fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
            encodings.iter().flat_map(|encoding| pick(encoding).iter().copied()).collect()
        };
        let ids = Tensor::from_vec(flat(|encoding| encoding.get_ids()), (rows, columns), &self.device)?;
        let types = Tensor::from_vec(flat(|encoding| encoding.get_type_ids()), (rows, columns), &self.device)?;
        let mask_values = flat(|encoding| encoding.get_attention_mask());
        let tokens = mask_values.iter().map(|&value| u64::from(value)).sum();
        let mask = Tensor::from_vec(mask_values, (rows, columns), &self.device)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over the real tokens: sum(hidden * mask) / sum(mask).
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
        let normalised = mean.broadcast_div(&norms)?;
        Ok((normalised.to_vec2::<f32>()?, tokens))
    }
}

#[async_trait]
impl EmbeddingModel for LocalEmbeddingModel {
    fn id(&self) -> &ModelId {
        &self.id
    }

    async fn embed(&self, inputs: &[String]) -> Result<Embeddings, LlmError> {
        let model = self.clone();
        let inputs = inputs.to_vec();
        let (vectors, input_tokens) = tokio::task::spawn_blocking(move || model.embed_blocking(&inputs))
            .await
            .map_err(|error| LlmError::new(ErrorKind::ServerError, self.id.to_string(), error.to_string()))??;
        Ok(Embeddings { vectors, input_tokens, cost_usd: Some(0.0), model: self.id.clone() })
    }
}
