"""Reference embeddings for the local-embeddings tests, computed the way
sentence-transformers computes them for all-MiniLM-L6-v2 (BERT encoder,
mean pooling over the attention mask, L2 normalisation), written out in
numpy so that it needs neither torch nor sentence-transformers.

    pip install numpy safetensors tokenizers
    python3 reference.py MODEL_DIR > reference.json

The Rust test compares its vectors with the JSON this prints."""

import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

SENTENCES = [
    "The cat sits on the mat.",
    "Maya prefers her coffee black, without sugar.",
    "Never use exclamation marks; our brand voice is plain.",
    "In March we moved the release to the second week of April because the audit was late.",
]


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(model_dir, text):
    config = json.load(open(f"{model_dir}/config.json"))
    w = {k.removeprefix("bert."): v.astype(np.float64) for k, v in load_file(f"{model_dir}/model.safetensors").items()}
    tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    encoding = tokenizer.encode(text)
    ids = np.array(encoding.ids)
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    x = w["embeddings.word_embeddings.weight"][ids]
    x = x + w["embeddings.position_embeddings.weight"][: len(ids)]
    x = x + w["embeddings.token_type_embeddings.weight"][np.array(encoding.type_ids)]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda name, h: h @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q, k, v = (lin(f"attention.self.{n}", x) for n in ("query", "key", "value"))
        n, d = x.shape
        split = lambda t: t.reshape(n, heads, d // heads).transpose(1, 0, 2)
        q, k, v = split(q), split(k), split(v)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d // heads)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores = scores / scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, d)
        attention = lin("attention.output.dense", context)
        x = layer_norm(attention + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        inner = gelu(lin("intermediate.dense", x))
        out = lin("output.dense", inner)
        x = layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    # One sentence, no padding: the mask is all ones, so mean pooling is the mean.
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled), len(ids)


if __name__ == "__main__":
    model_dir = sys.argv[1]
    out = []
    for sentence in SENTENCES:
        vector, tokens = embed(model_dir, sentence)
        out.append({"text": sentence, "tokens": tokens, "vector": [round(float(v), 6) for v in vector]})
    json.dump(out, sys.stdout, indent=None)
    print()
