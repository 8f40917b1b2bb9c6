"""The auditor side's exceptions: one root, a branch per part.

    AuditorClientError               everything auditor_client raises
    ├── ConfirmnetError              a call to the firm's gateway failed (``auditor_client.sdk``, whose
    │                                own branches ``sdk/_exceptions.py`` draws)
    ├── VerifierError                the node cannot be asked; nothing was judged (``verifier``)
    ├── EvidenceError                a file that is no evidence package this tool reads (``evidence``)
    └── AuthoriseError               a bundle that cannot be reviewed, a key that does not open, a
                                     signature refused (``authorise``)

What the protocol and chain layers it uses raise comes as node_gateway's own (``node_gateway.errors``),
such as a sheet of letters that cannot be read (``node_gateway.protocol.workbook.SheetError``).
Here, not in the SDK's module: the offline verifier imports it without the SDK's HTTP client.
"""

from __future__ import annotations


class AuditorClientError(Exception):
    """Root of everything auditor_client raises."""
