"""A scripted DNS server for triage tests (standard library only).

    python3 scripted_dns.py MODE [HOST [PORT [MAX_SECONDS]]]

Listens on UDP HOST:PORT (default 127.0.0.1:53 — run it inside a network namespace the test made)
and answers every query according to MODE:
    nxdomain   rcode 3, no answers
    servfail   rcode 2
    refused    rcode 5
    zero       A 0.0.0.0 (a blocking resolver); AAAA queries get an empty NOERROR
    loopback   A 127.0.0.2 (a hijacking resolver pointing at this machine); AAAA as for zero
    private    A 10.11.12.13 (a hijacking resolver pointing into a private range); AAAA as for zero
    silent     never answers (the client times out)
Prints "ready" on stdout once bound; exits after MAX_SECONDS (default 60). Bounded and harmless."""
import socket
import struct
import sys
import time


def question_end(packet: bytes) -> int:
    """Offset just past the first question (name + type + class), or -1."""
    i = 12
    while i < len(packet):
        n = packet[i]
        if n == 0:
            return i + 5 if i + 5 <= len(packet) else -1
        if n & 0xC0:
            return -1
        i += 1 + n
    return -1


def answer(packet: bytes, mode: str):
    if len(packet) < 12 or mode == "silent":
        return None
    qid, flags = struct.unpack("!HH", packet[:4])
    end = question_end(packet)
    if end < 0:
        return None
    question = packet[12:end]
    qtype = struct.unpack("!H", packet[end - 4:end - 2])[0]
    rd = flags & 0x0100
    rcode = {"nxdomain": 3, "servfail": 2, "refused": 5}.get(mode, 0)
    answers = b""
    count = 0
    a_record = {"zero": (0, 0, 0, 0), "loopback": (127, 0, 0, 2), "private": (10, 11, 12, 13)}.get(mode)
    if a_record is not None and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes(a_record)
        count = 1
    header = struct.pack("!HHHHHH", qid, 0x8000 | 0x0080 | rd | rcode, 1, count, 0, 0)
    return header + question + answers


def main() -> None:
    mode = sys.argv[1]
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 53
    max_seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, port))
    sock.settimeout(0.2)
    print("ready", flush=True)
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        try:
            packet, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        reply = answer(packet, mode)
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
