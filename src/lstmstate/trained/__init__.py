"""A trained population put to use: loaded back, generating, predicting, streaming, traced, exported to plain Keras."""
