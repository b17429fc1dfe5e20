enum _PlaceholderEmbeddingStore {}
