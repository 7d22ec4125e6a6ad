#!/usr/bin/env python3
"""Generates Shared/Contracts/Generated/Methods.swift, the table of Connect methods, from the
.proto files under Shared/Proto.

    deploy/scripts/generate-methods.py Shared/Contracts/Generated/Methods.swift

Without an argument the Swift file goes to stdout. swift-protobuf generates messages only, so
this script supplies what servers and clients share about each rpc: its path, its Swift message
types, its retry safety (the `idempotency_level` option) and the executable that owns it.

Needs grpcio-tools (`python3 -m pip install grpcio-tools`): its bundled protoc compiles the
files into a FileDescriptorSet, which is read with google.protobuf.descriptor_pb2. The output
depends only on the .proto files, so Tests/Interop/test_method_table.py can check that the
committed file is up to date.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO_ROOT / "Shared" / "Proto"
OUTPUT_HINT = "deploy/scripts/generate-methods.py Shared/Contracts/Generated/Methods.swift"

# Which executable serves the services of each proto package (a `MeshService` case), or None
# for a service every executable serves itself. A package with services that is missing here
# stops the script: add it when you add a contract.
OWNERS: dict[str, str | None] = {
    "pingan.gateway.v1": "gateway",
    "pingan.grid.v1": "grid",
    "pingan.dispute.v1": "dispute",
    "pingan.risk.v1": "risk",
    "pingan.index.v1": "index",
    "pingan.notify.v1": "notify",
    "grpc.health.v1": None,
    "pingan.events.v1": None,
}

# MethodOptions.IdempotencyLevel -> Idempotency (Shared/Contracts/ConnectMethod.swift).
IDEMPOTENCY = {0: ".unknown", 1: ".noSideEffects", 2: ".idempotent"}  # UNKNOWN, NO_SIDE_EFFECTS, IDEMPOTENT

# Methods whose .proto we do not own and which lack the option they should carry: the
# standard health check reads state only, so clients may retry it.
IDEMPOTENCY_OVERRIDES = {"/grpc.health.v1.Health/Check": ".noSideEffects"}

# Field numbers used in SourceCodeInfo paths.
FILE_SERVICE = 6  # FileDescriptorProto.service
SERVICE_METHOD = 2  # ServiceDescriptorProto.method

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public",
    "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch",
    "continue", "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat",
    "return", "throw", "switch", "where", "while", "as", "false", "is", "nil", "self", "Self", "super",
    "throws", "true", "try", "Any", "Protocol", "Type",
}


def fail(message: str) -> None:
    print(f"generate-methods.py: {message}", file=sys.stderr)
    sys.exit(1)


def proto_files() -> list[Path]:
    files = sorted(PROTO_DIR.rglob("*.proto"), key=lambda p: p.relative_to(PROTO_DIR).as_posix())
    if not files:
        fail(f"no .proto files under {PROTO_DIR}")
    return files


def descriptor_set(files: list[Path]):
    try:
        import grpc_tools
        from grpc_tools import protoc
        from google.protobuf import descriptor_pb2
    except ImportError:
        fail("grpcio-tools is not installed: python3 -m pip install grpcio-tools")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "descriptors.binpb")
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{well_known}",
            f"--descriptor_set_out={out}",
            "--include_imports",
            "--include_source_info",
            *[str(f) for f in files],
        ]
        code = protoc.main(args)
        if code != 0:
            fail(f"protoc failed with exit code {code} (its errors are above)")
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
    return fds


def swift_prefix(file) -> str:
    """swift-protobuf's type prefix: `pingan.grid.v1` -> `Pingan_Grid_V1_` (or the swift_prefix option)."""
    if file.options.HasField("swift_prefix"):
        return file.options.swift_prefix
    if not file.package:
        return ""
    prefix, upper = [], True
    for c in file.package:
        if c == "_":
            upper = True
        elif c == ".":
            upper = True
            prefix.append("_")
        else:
            prefix.append(c.upper() if upper else c)
            upper = False
    return "".join(prefix) + "_"


def swift_type_names(fds) -> dict[str, str]:
    """Every message's full proto name (`.pingan.grid.v1.Division`) -> its Swift name."""
    names: dict[str, str] = {}
    for file in fds.file:
        scope = f".{file.package}" if file.package else ""
        # Top-level messages get the prefix; nested ones are members of their parent (`Outer.Inner`).
        for message in file.message_type:
            proto_name = f"{scope}.{message.name}"
            names[proto_name] = swift_prefix(file) + message.name
            _nested(message, proto_name, names[proto_name], names)
    return names


def _nested(message, proto_name: str, swift_name: str, names: dict[str, str]) -> None:
    for nested in message.nested_type:
        nested_proto = f"{proto_name}.{nested.name}"
        names[nested_proto] = f"{swift_name}.{nested.name}"
        _nested(nested, nested_proto, names[nested_proto], names)


def leading_comments(file) -> dict[tuple[int, ...], str]:
    return {
        tuple(loc.path): loc.leading_comments
        for loc in file.source_code_info.location
        if loc.leading_comments.strip()
    }


def first_sentence(comment: str) -> str:
    """The first sentence of a comment's first paragraph, on one line."""
    paragraph = []
    for line in comment.strip("\n").split("\n"):
        line = line.strip()
        if not line:
            break
        paragraph.append(line)
    text = " ".join(paragraph)
    match = re.match(r"(.+?(?:[.!?](?=\s|$)|。))", text)
    return match.group(1) if match else text


def comment_lines(comment: str) -> list[str]:
    """A comment's lines, with the one space after `//` removed and blank edges dropped."""
    lines = [line[1:] if line.startswith(" ") else line for line in comment.rstrip().split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    return [line.rstrip() for line in lines]


def lower_first(name: str) -> str:
    identifier = name[:1].lower() + name[1:]
    return f"`{identifier}`" if identifier in SWIFT_KEYWORDS else identifier


def generate() -> str:
    files = proto_files()
    fds = descriptor_set(files)
    wanted = {f.relative_to(PROTO_DIR).as_posix() for f in files}
    by_name = {file.name: file for file in fds.file}
    missing = wanted - by_name.keys()
    if missing:
        fail(f"protoc produced no descriptor for {sorted(missing)}")
    types = swift_type_names(fds)

    def swift_type(proto_type: str, where: str) -> str:
        if proto_type not in types:
            fail(f"{where}: no message {proto_type} in the descriptor set")
        return types[proto_type]

    enums: list[str] = []
    rows: list[str] = []
    enum_names: dict[str, str] = {}
    paths: set[str] = set()
    for file_name in sorted(wanted):
        file = by_name[file_name]
        if not file.service:
            continue
        if file.package not in OWNERS:
            fail(
                f"proto package {file.package!r} ({file_name}) has services but no owner: add it to "
                f"OWNERS in deploy/scripts/generate-methods.py (a MeshService case, or None if every "
                f"executable serves it)"
            )
        owner = OWNERS[file.package]
        owner_swift = f".{owner}" if owner else "nil"
        comments = leading_comments(file)
        for s, service in enumerate(file.service):
            full_service = f"{file.package}.{service.name}" if file.package else service.name
            enum_name = f"{service.name}Methods"
            if enum_name in enum_names:
                fail(f"{full_service} and {enum_names[enum_name]} would both generate enum {enum_name}")
            enum_names[enum_name] = full_service
            lines = [f"/// `{full_service}`."]
            service_comment = comments.get((FILE_SERVICE, s))
            if service_comment:
                lines.append("///")
                lines += [f"/// {line}".rstrip() for line in comment_lines(service_comment)]
            lines += [f"public enum {enum_name} {{", f'    public static let service = "{full_service}"']
            statics = {"service"}
            for m, method in enumerate(service.method):
                where = f"{full_service}/{method.name}"
                if method.client_streaming or method.server_streaming:
                    fail(f"{where} is a streaming method; ConnectMethod describes unary methods only")
                static = lower_first(method.name)
                if static.strip("`") in statics:
                    fail(f"{where} would generate a second static {static} in {enum_name}")
                statics.add(static.strip("`"))
                level = method.options.idempotency_level
                if level not in IDEMPOTENCY:
                    fail(f"{where} has an unknown idempotency_level {level}")
                path = f"/{full_service}/{method.name}"
                idempotency = IDEMPOTENCY_OVERRIDES.get(path, IDEMPOTENCY[level])
                if path in paths:
                    fail(f"two methods have the path {path}")
                paths.add(path)
                input_swift = swift_type(method.input_type, where)
                output_swift = swift_type(method.output_type, where)
                method_comment = comments.get((FILE_SERVICE, s, SERVICE_METHOD, m))
                doc = first_sentence(method_comment) if method_comment else f"`{path}`."
                lines += [
                    f"    /// {doc}",
                    f"    public static let {static} = ConnectMethod<{input_swift}, {output_swift}>(",
                    f'        service: service, name: "{method.name}", idempotency: {idempotency}',
                    "    )",
                ]
                rows += [
                    "        MethodDescriptor(",
                    f'            service: "{full_service}", name: "{method.name}", owner: {owner_swift}, '
                    f"idempotency: {idempotency},",
                    f'            inputType: "{method.input_type.lstrip(".")}", '
                    f'outputType: "{method.output_type.lstrip(".")}"',
                    "        ),",
                ]
            lines.append("}")
            enums.append("\n".join(lines))

    header = f"""\
// DO NOT EDIT.
// Generated by deploy/scripts/generate-methods.py from Shared/Proto. Regenerate with
//   {OUTPUT_HINT}
// (deploy/scripts/generate.sh runs it after protoc).
//
// Every method of every Pingan contract, named once for servers and clients alike: its path,
// its message types, and whether it may be retried (the rpc's `idempotency_level` option).
"""
    table = f"""\
/// One row of the method table: what a path is and which executable serves it.
public struct MethodDescriptor: Sendable, Hashable {{
    /// The fully-qualified service name, e.g. `pingan.grid.v1.DivisionService`.
    public let service: String
    /// The method name, e.g. `GetDivision`.
    public let name: String
    /// The executable that serves it; nil for `grpc.health.v1.Health`, which every executable serves itself.
    public let owner: MeshService?
    public let idempotency: Idempotency
    /// The full proto name of the request message, e.g. `pingan.grid.v1.GetDivisionRequest`.
    public let inputType: String
    /// The full proto name of the response message.
    public let outputType: String

    /// The HTTP path, `/<service>/<method>`.
    public var path: String {{ "/\\(service)/\\(name)" }}
}}

/// Every method, for routing and for tests.
public enum MethodTable {{
    /// Every method of every contract, in the order of the .proto files.
    public static let all: [MethodDescriptor] = [
{chr(10).join(rows)}
    ]

    /// Keyed by path, for routing.
    public static let byPath: [String: MethodDescriptor] = Dictionary(uniqueKeysWithValues: all.map {{ ($0.path, $0) }})
}}
"""
    return header + "\n" + "\n\n".join(enums) + "\n\n" + table


def main() -> None:
    if len(sys.argv) > 2:
        fail(f"usage: {OUTPUT_HINT}  (or no argument for stdout)")
    swift = generate()
    if len(sys.argv) == 2:
        Path(sys.argv[1]).write_text(swift, encoding="utf-8")
    else:
        sys.stdout.write(swift)


if __name__ == "__main__":
    main()
