"""What the .proto comments promise about each request: which fields are required, their
limits, and the error codes each method answers beyond the ones every method may answer.

The comments are the contract an integrator reads (buf generates clients from them and
docs/integrating.md points at them), so the tests hold the services to them:

- a request field's comment says `Required` or `Optional` (an optional field may add when it
  is required: "Optional; required when the outcome is SETTLED");
- a text limit is written `N to M characters` or `at most M characters`;
- a method's comment ends with `Errors: a, b.` naming the codes it answers besides
  COMMON_CODES (or `Errors: none beyond the common ones.`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from conftest import PROTO_DIR

# What any method may answer: a malformed or invalid request, a caller without credentials or
# rights, a deadline, a door's throttle, a service that is down.
COMMON_CODES = frozenset({
    "invalid_argument", "unauthenticated", "permission_denied", "deadline_exceeded", "resource_exhausted", "unavailable",
})
CONNECT_CODES = frozenset({
    "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists", "permission_denied",
    "resource_exhausted", "failed_precondition", "aborted", "out_of_range", "unimplemented", "internal", "unavailable",
    "data_loss", "unauthenticated",
})

_FIELD = re.compile(r"^\s*(?:repeated\s+|optional\s+)?[\w.]+\s+(\w+)\s*=\s*\d+\s*[;\[]")
_MESSAGE = re.compile(r"^\s*message\s+(\w+)\s*\{")
_RPC = re.compile(r"^\s*rpc\s+(\w+)\s*\(\s*(\w+)\s*\)")
_SERVICE = re.compile(r"^\s*service\s+(\w+)\s*\{")
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;")
_LIMIT = re.compile(r"(?:(\d[\d,]*) to|[Aa]t most) (\d[\d,]*) characters")
_ERRORS = re.compile(r"Errors:\s*([^.]*)\.")


@dataclass
class FieldComment:
    message: str  # pingan.dispute.v1.EndRungRequest
    name: str  # note
    text: str

    @property
    def required(self) -> bool | None:
        """True for `Required`, False for `Optional`, None when the comment says neither."""
        first = re.search(r"\b(Required|Optional)\b", self.text)
        return None if first is None else first.group(1) == "Required"

    @property
    def max_characters(self) -> int | None:
        found = _LIMIT.search(self.text)
        return int(found.group(2).replace(",", "")) if found else None


@dataclass
class MethodComment:
    path: str  # /pingan.dispute.v1.DisputeService/EndRung
    input: str  # pingan.dispute.v1.EndRungRequest
    text: str

    @property
    def errors(self) -> frozenset[str] | None:
        """The codes the `Errors:` line names, or None when the comment has none."""
        found = _ERRORS.search(self.text)
        if found is None:
            return None
        listed = found.group(1).strip()
        if listed.startswith("none"):
            return frozenset()
        return frozenset(code.strip().strip("`") for code in listed.split(","))


@dataclass
class Contracts:
    fields: dict[tuple[str, str], FieldComment] = field(default_factory=dict)
    methods: dict[str, MethodComment] = field(default_factory=dict)

    def request_fields(self, message: str) -> list[FieldComment]:
        return [f for (m, _), f in self.fields.items() if m == message]


def read_contracts(root: Path = PROTO_DIR) -> Contracts:
    """Every field's and every rpc's leading comment (the `//` lines right above it, and a
    trailing `//` on the same line), from every .proto under `root`."""
    contracts = Contracts()
    for path in sorted(root.rglob("pingan/**/*.proto")):
        package = ""
        scopes: list[tuple[str, str]] = []  # ("message" | "service" | "block", name)
        pending: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith("//"):
                pending.append(stripped[2:].strip())
                continue
            trailing = stripped.split("//", 1)[1].strip() if "//" in stripped else ""
            comment = " ".join(pending + ([trailing] if trailing else []))
            if found := _PACKAGE.match(line):
                package = found.group(1)
            elif found := _MESSAGE.match(line):
                scopes.append(("message", found.group(1)))
            elif found := _SERVICE.match(line):
                scopes.append(("service", found.group(1)))
            elif found := _RPC.match(line):
                service = next(name for kind, name in reversed(scopes) if kind == "service")
                contracts.methods[f"/{package}.{service}/{found.group(1)}"] = MethodComment(
                    f"/{package}.{service}/{found.group(1)}", f"{package}.{found.group(2)}", comment)
                if stripped.endswith("{"):
                    scopes.append(("block", ""))
            elif (found := _FIELD.match(line)) and scopes and scopes[-1][0] == "message":
                message = ".".join([package] + [name for kind, name in scopes if kind == "message"])
                contracts.fields[(message, found.group(1))] = FieldComment(message, found.group(1), comment)
            elif stripped.endswith("{"):
                scopes.append(("block", ""))
            # A closing brace, or a block opened and closed on one line (`message Empty {}`).
            if scopes and (stripped.startswith("}") or ("{" in stripped and stripped.endswith("}"))):
                scopes.pop()
            if stripped:
                pending = []
    return contracts


def documented_errors() -> dict[str, frozenset[str]]:
    """Each method's documented codes besides COMMON_CODES, by path."""
    return {path: method.errors or frozenset() for path, method in read_contracts().methods.items()}
