#!/usr/bin/env python3
# NAME
#	smtpbatch.py - send messages in SMTP sessions, and say what each got
# SYNOPSIS
#	smtpbatch.py [-s SRC] [-n N] [-c SESSIONS] [-r RCPT] [--size BYTES]
#	             [--undeclared] [--pipeline] [--rset] [--pause-after K --pause S]
#	             SERVER
# DESCRIPTION
#	Opens SESSIONS connections to SERVER:25 one after another, from SRC,
#	and sends N messages in each, each to RCPT (comma-separated: several
#	recipients in one transaction). Prints one line per message:
#
#	    SESSION MESSAGE CODE	the reply that decided it: 250 when queued,
#				else the first refusal (RCPT, DATA or end of data)
#
#	and "closed SESSION" when the server ended the session (421). A
#	session stops at its first refusal of code 421, or when closed.
#
#	--pipeline sends each transaction's MAIL, RCPTs and DATA in one write
#	(RFC 2920), then reads the replies. --rset begins each message with a
#	transaction that is abandoned with RSET after its RCPT. --size pads
#	each message to about BYTES and declares it in MAIL FROM's SIZE=
#	(not with --undeclared). --pause-after K sleeps S seconds after the
#	K-th message of each session, the session held open.
import argparse
import socket
import sys
import time


def reply(f):
    """One SMTP reply (multiline joined): (code, text); (0, '') on EOF."""
    text = []
    while True:
        line = f.readline()
        if not line:
            return 0, ""
        line = line.decode("ascii", "replace").rstrip("\r\n")
        text.append(line)
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]), "\n".join(text)


def send_message(s, f, rcpts, size, declare, pipeline, seq):
    """One transaction: the code that decided it, and whether to go on."""
    body = "From: a@client.test\r\nSubject: message %d\r\n\r\n" % seq
    if size:
        line = "x" * 76 + "\r\n"
        body += line * max(1, (size - len(body)) // len(line))
    body += ".\r\n"
    mail = "MAIL FROM:<a@client.test>%s\r\n" % (" SIZE=%d" % len(body) if size and declare else "")
    cmds = [mail] + ["RCPT TO:<%s>\r\n" % r for r in rcpts] + ["DATA\r\n"]
    if pipeline:
        s.sendall("".join(cmds).encode())
        codes = [reply(f)[0] for _ in cmds]
    else:
        codes = []
        for c in cmds:
            s.sendall(c.encode())
            codes.append(reply(f)[0])
            if codes[-1] in (0, 421):
                break
    for c in codes:
        if c in (0, 421):
            return c, False
    if codes[0] != 250 or not any(c == 250 for c in codes[1:-1]):
        if codes[-1] == 354:
            s.sendall(b".\r\n")
            reply(f)
        s.sendall(b"RSET\r\n")
        reply(f)
        refused = [c for c in codes[1:-1] if c != 250]
        return (refused[0] if refused else codes[0]), True
    if codes[-1] != 354:
        s.sendall(b"RSET\r\n")
        reply(f)
        return codes[-1], True
    s.sendall(body.encode())
    code = reply(f)[0]
    return code, code not in (0, 421)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-s", "--source")
    ap.add_argument("-n", type=int, default=1)
    ap.add_argument("-c", "--sessions", type=int, default=1)
    ap.add_argument("-r", "--rcpt", default="user@discard.gw.test")
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--undeclared", action="store_true")
    ap.add_argument("--pause-after", type=int, default=0)
    ap.add_argument("--pause", type=float, default=0)
    ap.add_argument("--pipeline", action="store_true")
    ap.add_argument("--rset", action="store_true")
    ap.add_argument("server")
    a = ap.parse_args()
    rcpts = a.rcpt.split(",")
    family = socket.AF_INET6 if ":" in a.server else socket.AF_INET
    for sess in range(1, a.sessions + 1):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(30)
        if a.source:
            s.bind((a.source, 0))
        s.connect((a.server, 25))
        f = s.makefile("rb")
        if reply(f)[0] != 220:
            print("closed %d" % sess, flush=True)
            s.close()
            continue
        s.sendall(b"EHLO client.test\r\n")
        reply(f)
        for m in range(1, a.n + 1):
            if a.rset:
                s.sendall(("MAIL FROM:<a@client.test>\r\nRCPT TO:<%s>\r\nRSET\r\n"
                           % rcpts[0]).encode())
                codes = [reply(f)[0] for _ in range(3)]
                if 0 in codes or 421 in codes:
                    print("%d %d %d" % (sess, m, 421 if 421 in codes else 0), flush=True)
                    print("closed %d" % sess, flush=True)
                    break
            code, go_on = send_message(s, f, rcpts, a.size, not a.undeclared, a.pipeline, m)
            print("%d %d %d" % (sess, m, code), flush=True)
            if m == a.pause_after:
                time.sleep(a.pause)
            if not go_on:
                print("closed %d" % sess, flush=True)
                break
        else:
            try:
                s.sendall(b"QUIT\r\n")
                reply(f)
            except OSError:
                pass
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
