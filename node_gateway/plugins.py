"""Role plugins: what a role extension adds to a gateway, and how the gateway finds them.

The gateway's core serves every member the same way (its letters, the peer API, users, the
workers of the chain and of delivery). What only one kind of member does — a bank drafting and
approving replies from its core-banking system — is a role extension, a ``GatewayPlugin`` that an
installed distribution declares under the entry-point group ``confirmnet.plugins``::

    [project.entry-points."confirmnet.plugins"]
    bank = "bank_adapter.plugin:plugin"

Once installed, the gateway takes from each plugin serving its member role:

- ``routers()``: routers of the user API, mounted after the core's routes of that role;
- ``workers(node)``: background work, started and stopped with the core's workers;
- ``pages()``: its web pages (``node_gateway.web``): routers mounted beside the core's pages, a
  template directory searched after the core's (a plugin's templates live under
  ``<plugin name>/``), static files served under ``/web/static/<plugin name>/``, the links of the
  menu and the messages of its pages in Chinese and English;
- ``migrations()``: its own Alembic branch (a version directory and a branch label, its first
  revision revising ``CORE_BASE_REVISION``) and its tables' metadata. Every installed plugin's
  branch is migrated in every gateway's database, whatever the member's role: the schema is the
  installation's, as it was when the bank's tables were part of the core's migrations.

A plugin reaches the gateway through ``node_gateway.services.facade`` (letters, their chain steps,
mandates, users) and the API's dependencies (``node_gateway.api.deps``), never through the
gateway's rows. Without any plugin a gateway serves the core API of its role.

Tests and embedding programs may pass their own list of plugins to ``create_app``,
``start_workers`` and ``Database.migrate`` instead of the installed ones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from node_gateway.errors import NodeGatewayError

if TYPE_CHECKING:
    from fastapi import APIRouter
    from sqlalchemy import MetaData

    from node_gateway.core.config import MemberRole
    from node_gateway.node import Node

GROUP = "confirmnet.plugins"
# The core's first revision: a plugin's branch starts from it (its first revision's down_revision).
CORE_BASE_REVISION = "0001"


class PluginError(NodeGatewayError):
    """An installed plugin does not load, or is not a ``GatewayPlugin`` (a fault of the installation)."""

    code = "plugin_error"


@dataclass(frozen=True)
class Worker:
    """Background work of a plugin: ``run_once`` does one round and returns how much it did; the
    gateway runs it again at once while it finds work, else when woken (``Node.notify``) or after
    ``poll_s`` (the gateway's ``queue_fallback_s`` when None)."""

    name: str
    run_once: Callable[[], int]
    poll_s: float | None = None


@dataclass(frozen=True)
class MigrationBranch:
    """A plugin's schema: the Alembic revisions in ``versions``, all under the branch ``label``, and
    the metadata of the tables they create (for comparing the models with a migrated database)."""

    label: str
    versions: Path
    metadata: MetaData


@dataclass(frozen=True)
class NavLink:
    """A link of the pages' menu: its path, its label (a message key), and the user roles it shows
    to (an admin sees every link)."""

    path: str
    label: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Pages:
    """Web pages of a role: their routers (``node_gateway.web.pages.PageRoute`` routes, behind the
    pages' sign-in), their templates and static files, their menu links, and their messages
    (key -> (Chinese, English)) added to the core's catalogue."""

    routers: Sequence[APIRouter]
    templates: Path | None = None
    static: Path | None = None
    nav: Sequence[NavLink] = ()
    messages: Mapping[str, tuple[str, str]] = field(default_factory=dict)


class GatewayPlugin:
    """A role extension of the gateway; a subclass overrides what it offers."""

    name: ClassVar[str]
    roles: ClassVar[frozenset[MemberRole]]

    def routers(self) -> Sequence[APIRouter]:
        """The user API's routers it adds to a gateway of one of its ``roles``."""
        return ()

    def workers(self, node: Node) -> Sequence[Worker]:
        """The background work it runs in ``node``, a gateway of one of its ``roles``."""
        return ()

    def pages(self) -> Pages | None:
        """The web pages it adds to a gateway of one of its ``roles``, if any."""
        return None

    def migrations(self) -> MigrationBranch | None:
        """Its tables' Alembic branch, if it has tables."""
        return None


def load() -> tuple[GatewayPlugin, ...]:
    """The plugins installed under ``GROUP``, in the order of their entry points' names."""
    plugins: list[GatewayPlugin] = []
    for entry in sorted(entry_points(group=GROUP), key=lambda entry: entry.name):
        try:
            plugin = entry.load()
        except Exception as exc:
            raise PluginError(f"the plugin {entry.name!r} ({entry.value}) does not load: {exc}") from exc
        if not isinstance(plugin, GatewayPlugin):
            raise PluginError(f"the plugin {entry.name!r} ({entry.value}) is no GatewayPlugin: {plugin!r}")
        plugins.append(plugin)
    return tuple(plugins)


@functools.cache
def installed() -> tuple[GatewayPlugin, ...]:
    """Every installed plugin, loaded once per process."""
    return load()


def for_role(role: MemberRole, plugins: Sequence[GatewayPlugin] | None = None) -> list[GatewayPlugin]:
    """The plugins (installed ones unless given) that serve members of ``role``."""
    return [plugin for plugin in (installed() if plugins is None else plugins) if role in plugin.roles]


def migration_branches(plugins: Sequence[GatewayPlugin] | None = None) -> list[MigrationBranch]:
    """The Alembic branches of the plugins (installed ones unless given)."""
    branches = [plugin.migrations() for plugin in (installed() if plugins is None else plugins)]
    return [branch for branch in branches if branch is not None]
