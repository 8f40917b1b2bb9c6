"""Which peer endpoints this gateway will post to, as the network's configuration allows.

A member registers its own endpoint, so without a policy any member could make every other
gateway post to an address of its choosing: a service on their loopback or private network. A
public network (the default) wants https to globally routable addresses; a consortium on a closed
network allows private ranges; a development network (a local chain, the tests) allows plain
http to loopback too.

The host is resolved before the call and every address it resolves to is checked; a name that
resolves differently a moment later (DNS rebinding) is not caught here, so a public network's
gateways should also sit behind an egress filter.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from node_gateway.chain.network import EndpointPolicy
from node_gateway.errors import EndpointRefused

Resolver = Callable[[str, int], Iterable[str]]


def resolve_host(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise EndpointRefused(f"{host} does not resolve: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def check_endpoint(url: str, policy: EndpointPolicy, *, resolve: Resolver | None = resolve_host) -> None:
    """Raises EndpointRefused unless ``url`` is an endpoint the policy allows.

    With ``resolve=None`` only what the URL itself says is checked (its scheme, and its host if
    that is an address), as when a member is admitted.
    """
    parts = urlsplit(url)
    allowed_schemes = ("http", "https") if policy is EndpointPolicy.DEVELOPMENT else ("https",)
    if parts.scheme not in allowed_schemes:
        raise EndpointRefused(
            f"{url!r}: a {policy.value} network's peer endpoints are {' or '.join(allowed_schemes)}"
        )
    host = parts.hostname
    if not host or parts.username is not None or parts.password is not None:
        raise EndpointRefused(f"{url!r} names no host, or carries credentials")
    if policy is not EndpointPolicy.PUBLIC:
        return
    try:
        addresses: Iterable[str] = [str(ipaddress.ip_address(host))]
    except ValueError:
        if resolve is None:
            return
        try:
            port = parts.port or 443
        except ValueError as exc:
            raise EndpointRefused(f"{url!r} has no valid port") from exc
        addresses = resolve(host, port)
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise EndpointRefused(
                f"{url!r} leads to {address}, which is not a public address; a consortium on a private "
                'network says so in its network file ("peer_endpoints": "private")'
            )
