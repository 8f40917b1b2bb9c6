"""The audit firm's side: the SDK for its gateway's API (``sdk``), the ``confirmnet auditor`` and
``confirmnet verify`` commands (``cli``), the members a sheet of letters names (``members``), the auditee's
authorisation tool (``authorise``), evidence packages (``evidence``, ``pdf``) and the offline
verifier that regulators use (``verifier``). It uses only node_gateway's protocol and chain layers.
"""
