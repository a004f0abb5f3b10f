"""graphlib, ipaddress and urllib.parse: dependency ordering, subnet arithmetic and URL manipulation."""

import ipaddress
from graphlib import CycleError, TopologicalSorter
from urllib.parse import parse_qs, quote, unquote, urlencode, urljoin, urlparse, urlunparse

build = {"app": {"lib", "config"}, "lib": {"core"}, "config": {"core"}, "tests": {"app", "fixtures"}, "core": set(),
         "fixtures": set()}
sorter = TopologicalSorter(build)
print(list(TopologicalSorter(build).static_order()))
sorter.prepare()
waves = []
while sorter.is_active():
    ready = sorted(sorter.get_ready())
    waves.append(ready)
    sorter.done(*ready)
print(waves)
try:
    list(TopologicalSorter({"a": {"b"}, "b": {"c"}, "c": {"a"}}).static_order())
except CycleError as error:
    print("CycleError:", error.args[0], sorted(error.args[1]))

network = ipaddress.ip_network("10.20.0.0/22")
print(network.num_addresses, network.netmask, network.broadcast_address, list(network.subnets(new_prefix=24))[:2])
host = ipaddress.ip_address("10.20.3.77")
print(host in network, host.is_private, host + 5, int(host), ipaddress.ip_address(int(host) - 1))
print(ipaddress.ip_interface("192.168.1.9/24").network, ipaddress.ip_address("::1").is_loopback,
      ipaddress.IPv6Address("2001:db8::1").exploded)
print(list(ipaddress.summarize_address_range(ipaddress.ip_address("10.0.0.0"), ipaddress.ip_address("10.0.0.9"))))
print(sorted([ipaddress.ip_address("10.0.0.10"), ipaddress.ip_address("10.0.0.9"), ipaddress.ip_address("9.9.9.9")]))

url = urlparse("https://user@example.com:8443/path/to/page;params?q=vm+tests&lang=en&lang=fr#section-2")
print(url.scheme, url.hostname, url.port, url.path, url.params, url.fragment, url.username)
print(parse_qs(url.query), urlencode({"q": "a b&c", "n": 3}), quote("spaces and/slash"), unquote("%E2%9C%93"))
print(urljoin("https://example.com/a/b/c", "../d?x=1"), urljoin("https://example.com/a/", "/root"))
print(urlunparse(url._replace(query="", fragment="")))
ipaddress.ip_address("300.1.1.1")
