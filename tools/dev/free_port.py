#!/usr/bin/python3
"""Prints a loopback TCP port free right now, chosen at random below the
kernel's ephemeral range, so no outgoing connection takes it between this
choice and the process binding it (as NodeProcess::FreePort does)."""
import random
import socket

low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    port = random.randint(10000, low - 1)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
