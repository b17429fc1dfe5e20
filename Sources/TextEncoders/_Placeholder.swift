enum _PlaceholderTextEncoders {}
