#!/usr/bin/env python3
# NAME
#	probe.py - how long the agent takes to answer, while something else goes on
# SYNOPSIS
#	probe.py SECONDS CONTROL_SOCKET POLICY_SOCKET [METRICS_HOST:PORT]
# DESCRIPTION
#	Every 20 ms for SECONDS, asks mxguardd in turn: "stats" on the
#	control socket (a new connection, as the CLI makes), one policy
#	request on a connection kept open (as Postfix's smtpd does), and
#	GET /metrics (default 127.0.0.1:9489). Each answer is timed from the
#	request to its last byte, in this one process: no program is started
#	per request, so what is measured is the agent, not the machine's
#	fork and exec under load.
#
#	Prints "worst MS p99 MS n N" (milliseconds, over all requests) and
#	exits 0; when a request fails or gets no answer within 5 s, prints
#	why and exits 1.
import socket
import struct
import sys
import time


def control(path):
    """One "stats" request, framed as mxguard does; True on an exit frame."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    body = b"json\0stats\0"
    s.sendall(struct.pack("=I", len(body)) + body)
    buf = b""
    while True:
        while len(buf) < 5:
            chunk = s.recv(65536)
            if not chunk:
                return False
            buf += chunk
        kind, length = buf[0:1], struct.unpack("=I", buf[1:5])[0]
        while len(buf) < 5 + length:
            chunk = s.recv(65536)
            if not chunk:
                return False
            buf += chunk
        buf = buf[5 + length:]
        if kind == b"x":
            s.close()
            return True


def policy(conn):
    req = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=198.18.0.10\n"
           b"sender=a@client.test\nrecipient=user@gw.test\n\n")
    conn.sendall(req)
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = conn.recv(4096)
        if not chunk:
            return False
        buf += chunk
    return buf.startswith(b"action=")


def metrics(host, port):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got.startswith(b"HTTP/1.") and b" 200 " in got.split(b"\r\n", 1)[0]


def main():
    if len(sys.argv) < 4:
        print("usage: probe.py SECONDS CONTROL_SOCKET POLICY_SOCKET [HOST:PORT]", file=sys.stderr)
        return 2
    seconds = float(sys.argv[1])
    host, port = (sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1:9489").rsplit(":", 1)
    pol = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pol.settimeout(5)
    pol.connect(sys.argv[3])
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for name, ask in (("control", lambda: control(sys.argv[2])),
                          ("policy", lambda: policy(pol)),
                          ("metrics", lambda: metrics(host, int(port)))):
            t0 = time.monotonic()
            try:
                ok = ask()
            except OSError as e:
                print(f"{name} failed: {e}")
                return 1
            if not ok:
                print(f"{name} failed: no answer")
                return 1
            times.append(time.monotonic() - t0)
        time.sleep(0.02)
    times.sort()
    worst = times[-1] * 1000
    p99 = times[int(len(times) * 0.99) - 1 if len(times) > 1 else 0] * 1000
    print(f"worst {worst:.0f} p99 {p99:.0f} n {len(times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
