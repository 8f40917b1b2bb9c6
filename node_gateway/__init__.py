"""The confirmnet member node, the core every member runs.

- ``protocol``: documents, canonical hashing, envelopes, the letter's lifecycle and wire models,
  which the other packages import;
- ``chain``: the contracts' typed wrappers, signing and sending, the node (any JSON-RPC node, or
  the in-process chain behind the same interface);
- ``storage``, ``core``, ``peer``, ``services``: the database and vault, keys and configuration,
  the peer protocol, and what a gateway does with letters (indexing, outbox, delivery);
- ``api``: the FastAPI gateway service, user and peer APIs, with role plugins
  (``node_gateway.plugins``) adding their routes and workers;
- ``errors``: the one exception tree, drawn in its docstring.
"""
