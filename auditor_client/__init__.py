"""Audit firm SDK, CLI and offline verifier (coming)."""
