enum _PlaceholderVectorIndex {}
