"""Where a job's git host may be: its addresses are checked before git connects (I3).

A host that resolves to loopback, link-local, multicast or a cloud metadata address is refused
(unless the worker sets HYDRA_GIT_ALLOW_PRIVATE_HOSTS), so a job cannot point git at the worker's
own services. `address_problem` is pure; `resolve_host` asks the resolver.
"""

from __future__ import annotations

import asyncio
import socket
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from hydra_jobs.git_errors import GitInputRefused
from hydra_jobs.git_inputs import DEFAULT_PORTS, RepoKind, RepoUrl

__all__ = ["address_problem", "resolve_host"]

_BLOCKED_NETWORKS: tuple[tuple[IPv4Network | IPv6Network, str], ...] = tuple(
    (ip_network(net), why)
    for net, why in (
        ("169.254.169.254/32", "cloud metadata"),  # before link-local: the more useful reason
        ("100.100.100.200/32", "cloud metadata"),
        ("fd00:ec2::254/128", "cloud metadata"),
        ("0.0.0.0/8", "unspecified"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("::1/128", "loopback"),
        ("::/128", "unspecified"),
        ("::/96", "unspecified or IPv4-compatible"),
        ("fe80::/10", "link-local"),
        ("ff00::/8", "multicast"),
    )
)


def address_problem(address: str) -> str | None:
    """Why a connection to `address` is refused (loopback, link-local, metadata...), or None."""
    try:
        ip = ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return "not an IP address"
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for network, why in _BLOCKED_NETWORKS:
        if ip.version == network.version and ip in network:
            return why
    return None


async def resolve_host(repo: RepoUrl, *, allow_private_hosts: bool) -> tuple[str, ...]:
    """The addresses `repo`'s host resolves to, all of them allowed; or raise.

    Every address must pass, not just the first: git may connect to any of them. Decimal, hex
    and short IPv4 forms (`2130706433`, `127.1`) resolve like any name, so they are caught too.
    """
    if repo.kind is RepoKind.FILE or repo.host is None or allow_private_hosts:
        return ()
    port = repo.port or DEFAULT_PORTS[repo.kind]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(repo.host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise GitInputRefused(f"cannot resolve git host {repo.host!r}: {exc}") from exc
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise GitInputRefused(f"cannot resolve git host {repo.host!r}")
    for address in addresses:
        why = address_problem(address)
        if why is not None:
            raise GitInputRefused(
                f"git host {repo.host!r} resolves to {address} ({why}); such hosts are refused "
                "unless the worker sets HYDRA_GIT_ALLOW_PRIVATE_HOSTS"
            )
    return addresses
