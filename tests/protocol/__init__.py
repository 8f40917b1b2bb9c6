"""Tests of the off-chain protocol: documents, hashing, envelopes, errors."""
