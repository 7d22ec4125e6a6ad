"""Every method of every contract, through the gateway, in every protocol the mesh serves.

The same baseline request (test_fuzz.baseline: town A's seeded records) is sent as the
township user "town-a" (a bearer token) and as a department system (an API key made with
`gateway add-api-key`), by clients nobody in this project wrote:

- Connect JSON over http.client: the reference answer;
- connectrpc (generated from Shared/Proto at test time) with its defaults: Connect, binary
  protobuf, gzip request bodies; and with the JSON codec; and as gRPC-Web (proto and JSON);
  and as gRPC over cleartext HTTP/2 to the gateway's GRPC_PORT;
- grpcio on GRPC_PORT;
- gRPC-Web by hand over http.client, to check the framing byte by byte;
- `buf curl` with the Connect protocol (binary) and with `--protocol grpc --http2-prior-knowledge`.

Every answer must be a well-formed answer of its protocol and never `internal`, `unknown` or
`unimplemented`. Methods marked `idempotency_level = NO_SIDE_EFFECTS` must answer with the
reference's code in every protocol, and with an equal message when the reference succeeded.
Other methods change something, so each protocol's call is a repeat of the reference's: its
code must be one a repeat may give. Methods only the mesh itself may call (`.system` in
Shared/Access/MethodRoles.swift) are `permission_denied` in every protocol. A gzip bomb is
`resource_exhausted` in each protocol, and tiny deadlines are honoured. By hand over h2c, a
gRPC answer must end with a trailers HEADERS frame, and pings between calls (as grpcio's BDP
probes) must not close the connection.

Runs in about 25 s: `buf curl` is one process per call (about 0.4 s), so the read-only
methods' calls run side by side and the others one after another.
"""
from __future__ import annotations

import gzip
import json
import re
import socket

import grpc
from google.protobuf import json_format

from mesh import TOWN_A
from test_fuzz import baseline

from protocol_clients import (  # noqa: F401  (pytest finds the fixtures by their names here)
    api_key,
    contracts,
    clients,
    channel,
    NEVER,
    GRPC_CODES,
    bearer,
    keyed,
    Answer,
    malformed,
    post,
    media_type,
    connect_json,
    Clients,
    grpcio_call,
    BUF,
    sweep,
    table,
    problems_of,
)

# ---------------------------------------------------------------------------- tests


ALL_FLAVOURS = list(Clients.FLAVOURS)


def test_read_only_methods_answer_alike_in_every_protocol(mesh, contracts, clients, channel) -> None:
    results = sweep(mesh, contracts, clients, channel, bearer(mesh), read_only=True, flavours=ALL_FLAVOURS, with_buf=True)
    assert len(results) >= 15, table(results)
    assert all(len(answers) == 2 + len(ALL_FLAVOURS) + len(BUF) + 1 for _, _, answers in results)
    problems = problems_of(results, contracts, read_only=True)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems) + "\n\nall answers:\n" + table(results)
    # The sweep reaches the handlers: most read-only calls for town A's own records succeed.
    assert sum(next(iter(a.values())).code == "ok" for _, _, a in results) >= len(results) // 2, table(results)


def test_read_only_methods_with_an_api_key(mesh, contracts, clients, channel, api_key) -> None:
    flavours = ["connectrpc default (connect+proto, gzip)", "connectrpc grpc-web+proto"]
    results = sweep(mesh, contracts, clients, channel, keyed(api_key), read_only=True, flavours=flavours, with_buf=False)
    problems = problems_of(results, contracts, read_only=True)
    # The key acts for the same centre with the same roles as town-a: the same codes.
    for path, request, answers in results:
        person = connect_json(mesh, contracts[path], request, bearer(mesh))
        if person.code != next(iter(answers.values())).code:
            problems.append(f"{path}: the key's reference answered {next(iter(answers.values()))}, town-a's {person}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems) + "\n\nall answers:\n" + table(results)


def test_methods_that_change_something_repeat_legitimately_in_every_protocol(mesh, contracts, clients, channel) -> None:
    results = sweep(mesh, contracts, clients, channel, bearer(mesh), read_only=False, flavours=ALL_FLAVOURS, with_buf=True)
    assert len(results) >= 30, table(results)
    problems = problems_of(results, contracts, read_only=False)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems) + "\n\nall answers:\n" + table(results)
    assert any(next(iter(a.values())).code == "ok" for _, _, a in results), table(results)


def test_methods_that_change_something_with_an_api_key(mesh, contracts, clients, channel, api_key) -> None:
    flavours = ["connectrpc default (connect+proto, gzip)"]
    results = sweep(mesh, contracts, clients, channel, keyed(api_key), read_only=False, flavours=flavours, with_buf=False)
    problems = problems_of(results, contracts, read_only=False)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems) + "\n\nall answers:\n" + table(results)
    assert all(state == 200 for state in mesh.ready().values()), mesh.ready()


BOMB_BYTES = 64 << 20  # inflates from about 64 KiB to 16 times the 4 MiB body limit


def test_a_gzip_bomb_is_resource_exhausted_in_every_protocol(mesh, contracts, channel) -> None:
    contract = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
    # A valid message once inflated: field 1 (centre_code) holding 64 MiB.
    inflated = b"\x0a" + _varint(BOMB_BYTES) + b"0" * BOMB_BYTES
    bomb = gzip.compress(inflated, compresslevel=9)
    assert len(bomb) < 1 << 20
    auth = bearer(mesh)

    status, headers, body = post(mesh.ports["gateway"], contract.path, bomb,
                                 {"Content-Type": "application/proto", "Content-Encoding": "gzip", **auth})
    assert (status, media_type(headers)) == (429, "application/json"), (status, headers, body[:300])
    assert json.loads(body)["code"] == "resource_exhausted", body

    framed = b"\x01" + len(bomb).to_bytes(4, "big") + bomb
    status, headers, body = post(mesh.ports["gateway"], contract.path, framed,
                                 {"Content-Type": "application/grpc-web+proto", "grpc-encoding": "gzip", **auth})
    assert status == 200 and media_type(headers) == "application/grpc-web+proto", (status, headers, body[:300])
    assert body[:1] == b"\x80" and b"grpc-status: 8\r\n" in body.lower(), body[:300]

    answer = grpcio_call(channel, contract, inflated, auth, compression=grpc.Compression.Gzip, serializer=lambda raw: raw)
    assert answer.code == "resource_exhausted", answer
    # And the gateway still answers.
    assert grpcio_call(channel, contract, contract.input(centre_code=TOWN_A), auth).code == "ok"
    assert all(state == 200 for state in mesh.ready().values()), mesh.ready()


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_tiny_deadlines_are_honoured(mesh, contracts, clients, channel) -> None:
    """grpc-timeout (grpcio, and by hand over gRPC-Web) and Connect-Timeout-Ms: the call ends
    as deadline_exceeded or succeeds in time, never as internal or unknown."""
    auth = bearer(mesh)
    seen = []
    # Methods whose baseline request succeeds, so that only the deadline can end them early.
    for path in ("/pingan.risk.v1.RiskService/ListWarnings", "/pingan.dispute.v1.DisputeService/ExportCases",
                 "/pingan.index.v1.IndexService/GetRanking"):
        contract = contracts[path]
        method = next(m for m in mesh.methods if m.path == path)
        message = json_format.ParseDict(baseline(method.input, mesh.records), contract.input())
        for timeout in (0.000001, 0.001, 0.005, 0.02):
            seen.append((path, f"grpcio timeout={timeout}", grpcio_call(channel, contract, message, auth, timeout=timeout)))
        for timeout_ms in (1, 5):
            seen.append((path, f"connectrpc timeout_ms={timeout_ms}",
                         clients.call("connectrpc default (connect+proto, gzip)", contract, message, auth, timeout_ms=timeout_ms)))
        payload = message.SerializeToString()
        for value in ("1n", "1u", "1m", "3m"):
            status, headers, body = post(mesh.ports["gateway"], path, b"\x00" + len(payload).to_bytes(4, "big") + payload,
                                         {"Content-Type": "application/grpc-web+proto", "grpc-timeout": value, **auth})
            code = re.search(rb"grpc-status: ?(\d+)", body, re.IGNORECASE)
            seen.append((path, f"grpc-web grpc-timeout: {value}",
                         Answer(GRPC_CODES[int(code.group(1))]) if status == 200 and code else malformed(f"{status} {body[:200]!r}")))
    bad = [f"{path} {how}: {answer}" for path, how, answer in seen if answer.code in NEVER | {"malformed"}]
    assert not bad, "\n".join(bad)
    assert all(answer.code in ("ok", "deadline_exceeded") for _, _, answer in seen), \
        "\n".join(f"{p} {h}: {a}" for p, h, a in seen)
    # The channel and the mesh are fine afterwards.
    contract = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
    assert grpcio_call(channel, contract, contract.input(centre_code=TOWN_A), auth).code == "ok"
    assert all(state == 200 for state in mesh.ready().values()), mesh.ready()


# ------------------------------------------------------- gRPC frames, seen by hand


class H2c:
    """Just enough cleartext HTTP/2 (prior knowledge) to see the frames of gRPC exchanges:
    requests are HPACK literals without indexing or Huffman; responses are not decoded."""

    DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
    END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        self.next_stream = 1
        self.acks: list[bytes] = []
        self.goaway: bytes | None = None
        self.closed = False
        self.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + self.frame(self.SETTINGS, 0, 0, b""))

    @staticmethod
    def frame(kind: int, flags: int, stream: int, data: bytes) -> bytes:
        return len(data).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + data

    @staticmethod
    def literal(name: str, value: str) -> bytes:
        def string(raw: bytes) -> bytes:
            if len(raw) < 127:
                return bytes([len(raw)]) + raw
            out, rest = bytearray([127]), len(raw) - 127
            while rest >= 128:
                out.append(rest & 127 | 128)
                rest >>= 7
            return bytes(out + bytes([rest])) + raw
        return b"\x00" + string(name.encode()) + string(value.encode())

    def send(self, data: bytes) -> None:
        try:
            self.socket.sendall(data)
        except OSError:
            self.closed = True

    def ping(self, number: int) -> None:
        self.send(self.frame(self.PING, 0, 0, number.to_bytes(8, "big")))

    def call(self, path: str, message: bytes, headers: dict[str, str]) -> list[tuple[int, int, bytes]]:
        """Sends one unary gRPC request; returns its stream's frames up to END_STREAM, RST_STREAM,
        a GOAWAY or the connection's end."""
        stream = self.next_stream
        self.next_stream += 2
        fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1"),
                  ("content-type", "application/grpc+proto"), ("te", "trailers"), *headers.items()]
        block = b"".join(self.literal(name, value) for name, value in fields)
        body = b"\x00" + len(message).to_bytes(4, "big") + message
        self.send(self.frame(self.HEADERS, self.END_HEADERS, stream, block) + self.frame(self.DATA, self.END_STREAM, stream, body))
        frames: list[tuple[int, int, bytes]] = []
        while not self.closed and self.goaway is None:
            for kind, flags, number, data in self.read():
                if number == stream:
                    frames.append((kind, flags, data))
                    if kind == self.RST_STREAM or flags & self.END_STREAM:
                        return frames
        return frames

    def read(self):
        try:
            chunk = self.socket.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
        self.buffer += chunk
        while len(self.buffer) >= 9 and len(self.buffer) >= 9 + int.from_bytes(self.buffer[:3], "big"):
            length = int.from_bytes(self.buffer[:3], "big")
            kind, flags = self.buffer[3], self.buffer[4]
            number = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
            data, self.buffer = self.buffer[9:9 + length], self.buffer[9 + length:]
            if kind == self.SETTINGS and not flags & self.ACK:
                self.send(self.frame(self.SETTINGS, self.ACK, 0, b""))
            elif kind == self.PING and flags & self.ACK:
                self.acks.append(data)
            elif kind == self.GOAWAY:
                self.goaway = data
            yield kind, flags, number, data

    def close(self) -> None:
        self.socket.close()


def shape(frames: list[tuple[int, int, bytes]]) -> list[str]:
    names = {0: "DATA", 1: "HEADERS", 3: "RST_STREAM"}
    return [f"{names.get(kind, kind)}({len(data)}b{', END_STREAM' if flags & 1 and kind != 3 else ''})" for kind, flags, data in frames]


def test_grpc_answers_end_with_trailers(mesh, contracts) -> None:
    """gRPC over HTTP/2: a response is Response-Headers, messages, Trailers (a HEADERS frame with
    END_STREAM), or Trailers-Only (a single HEADERS frame with END_STREAM). Ending the stream
    with an empty DATA frame leaves the status without trailers; grpcio then reports
    UNKNOWN "Data frame with END_STREAM flag received" for every error."""
    connection = H2c(mesh.grpc_port)
    try:
        ok = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
        refused = contracts["/pingan.dispute.v1.DisputeService/ListCases"]
        answers = {
            "ok": connection.call(ok.path, ok.input(centre_code=TOWN_A).SerializeToString(), bearer(mesh)),
            # invalid_argument: department_id is not a UUID
            "error": connection.call(refused.path, refused.input(department_id="测试").SerializeToString(), bearer(mesh)),
            # unauthenticated, refused before the body is read
            "refused at the door": connection.call(ok.path, ok.input(centre_code=TOWN_A).SerializeToString(), {}),
        }
    finally:
        connection.close()
    wrong = {name: shape(frames) for name, frames in answers.items()
             if not frames or frames[-1][0] != H2c.HEADERS or not frames[-1][1] & H2c.END_STREAM}
    assert not wrong, f"gRPC responses that do not end with a trailers HEADERS frame: {wrong}"
    assert [kind for kind, _, _ in answers["ok"]] == [H2c.HEADERS, H2c.DATA, H2c.HEADERS], shape(answers["ok"])


def test_grpc_connection_survives_pings_between_calls(mesh, contracts) -> None:
    """grpcio (and grpc-go) clients send BDP pings while data flows. A server may limit pings
    (gRFC A8), but counts only those while it sends nothing: each ping here is followed by a
    call the server answers, so none is abusive and the connection must stay open."""
    contract = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
    message = contract.input(centre_code=TOWN_A).SerializeToString()
    connection = H2c(mesh.grpc_port)
    outcomes = []
    try:
        for number in range(6):
            connection.ping(number)
            frames = connection.call(contract.path, message, bearer(mesh))
            outcomes.append(f"ping {number} then call: {shape(frames)}"
                            + (" connection closed" if connection.closed else "")
                            + (f" GOAWAY {connection.goaway!r}" if connection.goaway is not None else ""))
            if connection.closed or connection.goaway is not None:
                break
    finally:
        connection.close()
    assert len(outcomes) == 6 and not connection.closed and connection.goaway is None, "\n".join(outcomes)
    assert len(connection.acks) == 6, connection.acks


def test_a_default_grpcio_channel_keeps_working(mesh, contracts) -> None:
    """300 calls on one grpcio channel with its defaults (BDP pings on), one after another:
    grpcio pings while data flows, and the server must not count that against it."""
    contract = contracts["/pingan.risk.v1.RiskService/ListWarnings"]
    failures = []
    with grpc.insecure_channel(f"127.0.0.1:{mesh.grpc_port}") as default:
        for number in range(300):
            answer = grpcio_call(default, contract, contract.input(centre_code=TOWN_A), bearer(mesh))
            if answer.code != "ok":
                failures.append(f"call {number}: {answer}")
    assert not failures, "\n".join(failures)
