"""Configuration models, loading, the sample configs and the command line."""
