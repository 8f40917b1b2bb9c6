"""The command line of the audit firm, the auditee's signer and whoever verifies evidence.

``confirmnet.cli`` mounts these as ``confirmnet auditor``, ``confirmnet authorise`` and
``confirmnet verify``; each command is a thin layer over the SDK and the modules beside it.
"""

from auditor_client.cli.auditor import auditor_app
from auditor_client.cli.authorise import authorise_app
from auditor_client.cli.verify import verify_app

__all__ = ["auditor_app", "authorise_app", "verify_app"]
