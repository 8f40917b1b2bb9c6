"""The confirmnet member node: chain access, protocol, and (later) the gateway service."""
