"""Where the service may send a callback or webhook: public addresses, and private ones only when
an operator listed them (CALLBACK_ALLOWED_HOSTS). Without this, whoever can set a callback URL
(a 12345 order, a department's webhook) could make the worker POST to the cloud metadata
service (169.254.169.254), to our own APIs on 127.0.0.1, or across the intranet (SSRF).

Checked twice: the URL as written when it is accepted (a literal address, `localhost`), and
every address its host resolves to just before each delivery (a public name can point inward).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from shared.errors import invalid

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedTarget(Exception):
    """A delivery target outside what the service may call."""


@dataclass(frozen=True)
class Allowed:
    hosts: frozenset[str]
    networks: tuple[IpNetwork, ...]
    ports: frozenset[int] = frozenset()
    """Ports a target may use (CALLBACK_PORTS); empty: any. Where a NetworkPolicy lets the
    worker out on a few ports only, a target on another would time out at every delivery
    instead of being refused when it is set."""

    @classmethod
    def parse(cls, raw: str, ports: str = "") -> Allowed:
        """`hotline.intranet, 10.20.0.0/16, 127.0.0.1` → names and networks; `443, 8443` →
        ports."""
        hosts, networks = set(), []
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks), parse_ports(ports))

    def covers(self, host: str, address: IpAddress | None = None) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        return address is not None and any(address in net for net in self.networks)


def parse_ports(raw: str) -> frozenset[int]:
    """`443, 80` → {443, 80}; raises ValueError on anything but ports 1–65535."""
    ports = set()
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if not (item.isascii() and item.isdigit()) or not 0 < int(item) < 65536:
            raise ValueError(f"{item!r} is not a port (1-65535)")
        ports.add(int(item))
    return frozenset(ports)


def _port(parts: SplitResult) -> int | None:
    """The port a URL reaches (the scheme's default when unwritten); None if not a number."""
    try:
        written = parts.port
    except ValueError:
        return None
    return written or (443 if parts.scheme == "https" else 80)


def _inward(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def literal_problem(url: str, allowed: Allowed) -> str | None:
    """Why `url` as written may not be called, or None (a host name is checked at delivery)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "has no host"
    port = _port(parts)
    if port is None:
        return "has a port that is not a number from 0 to 65535"
    if allowed.ports and port not in allowed.ports:
        listed = ", ".join(str(p) for p in sorted(allowed.ports))
        return f"uses port {port}; CALLBACK_PORTS allows {listed} (the worker's egress)"
    try:
        address: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if allowed.covers(host, address):
        return None
    if address is None:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            return "points at this machine (loopback); list it in CALLBACK_ALLOWED_HOSTS if meant"
        return None
    if _inward(address):
        return (
            f"points at a private, loopback or link-local address ({address}); "
            "list it in CALLBACK_ALLOWED_HOSTS if meant"
        )
    return None


RESOLVE_SECONDS = 2.0


def require_callable(url: str, allowed: Allowed, field: str) -> None:
    """At the edge where a target is accepted: 422 naming `field` unless it may be called."""
    problem = literal_problem(url, allowed)
    if problem:
        raise invalid(field, problem)


async def ensure_deliverable(url: str, allowed: Allowed) -> None:
    """Raise RefusedTarget unless `url` and every address its host resolves to may be called."""
    problem = literal_problem(url, allowed)
    if problem:
        raise RefusedTarget(f"callback target {problem}")
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = _port(parts)
    if allowed.covers(host):
        return
    try:
        ipaddress.ip_address(host)
        return  # a literal, checked above
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(RESOLVE_SECONDS):
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if _inward(address) and not allowed.covers(host, address):
            raise RefusedTarget(f"callback host resolves to an inward address ({address})")
