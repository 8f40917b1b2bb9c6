"""The command line of the audit firm, the auditee's signer and whoever verifies evidence.

``confirmnet.cli`` mounts these as ``confirmnet auditor``, ``confirmnet authorise`` and
``confirmnet verify``; each command is a thin layer over the SDK and the modules beside it.
Each app is imported when it is asked for, so ``verify_app`` (the offline verifier, on the base
install) does not pull in the SDK's httpx.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor_client.cli.auditor import auditor_app
    from auditor_client.cli.authorise import authorise_app
    from auditor_client.cli.verify import verify_app

__all__ = ["auditor_app", "authorise_app", "verify_app"]

_MODULES = {"auditor_app": "auditor", "authorise_app": "authorise", "verify_app": "verify"}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_MODULES[name]}"), name)
