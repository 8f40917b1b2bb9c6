"""Bank side of a gateway (coming)."""
