"""The .proto comments say what the services enforce (see contract_comments.py for the
convention): every request field is documented required or optional, and through the
gateway a required field left out is `invalid_argument` naming it, an optional one left out
is not refused for being missing, and text of its documented limit is taken while one
character more is `invalid_argument` naming it. Each method's `Errors:` line is checked against the codes the
fuzz sees (test_fuzz.py).
"""

from __future__ import annotations

from contract_comments import CONNECT_CODES, read_contracts
from mesh import Mesh
from test_fuzz import baseline

# Methods the township user the checks act as may not call, so their fields cannot be driven
# through the gateway by it: the mesh's own deliveries and questions, a department's summons
# and its answers to them, and the whole deployment's index and calendar (the root centre's).
NOT_CALLABLE_AS_TOWNSHIP = {
    "/pingan.dispute.v1.DisputeService/OpenCase", "/pingan.dispute.v1.DisputeService/ReportToSummons",
    "/pingan.dispute.v1.DisputeService/FeedBackOnSummons", "/pingan.dispute.v1.DisputeService/ListMySummons",
    "/pingan.risk.v1.RiskService/AssessCase",
    "/pingan.index.v1.IndexService/ComputeMonthlyIndex", "/pingan.dispute.v1.DisputeService/LoadCalendar",
    # The mesh's own: the gateway's resident pages vouch for the resident, the relays deliver.
    "/pingan.dispute.v1.ResidentService/GetOwnRequest", "/pingan.dispute.v1.ResidentService/ListOwnRequests",
    "/pingan.dispute.v1.ResidentService/RateRequest", "/pingan.notify.v1.NotifyService/SendResidentText",
}
# Methods for another role than the township's people: called as an account holding it.
CALLERS = {"/pingan.dispute.v1.ResidentService/FileRequest": "town-app",
           "/pingan.dispute.v1.FederationService/ReceiveCases": "county-relay",
           "/pingan.index.v1.IndexFederationService/ReceiveCountyFacts": "county-relay"}


def test_every_request_field_and_method_is_documented() -> None:
    contracts = read_contracts()
    assert len(contracts.methods) >= 60, len(contracts.methods)
    missing = []
    for method in contracts.methods.values():
        if method.errors is None:
            missing.append(f"{method.path}: no `Errors:` line")
        elif not method.errors <= CONNECT_CODES:
            missing.append(f"{method.path}: unknown codes {sorted(method.errors - CONNECT_CODES)}")
        for comment in contracts.request_fields(method.input):
            if comment.required is None:
                missing.append(f"{method.input}.{comment.name}: neither Required nor Optional")
    assert not missing, f"{len(missing)} undocumented:\n" + "\n".join(missing)


def _of_length(plausible: object, length: int) -> str:
    """Text of `length` characters, grown from the field's plausible value so only its length
    is wrong: a URL stays a URL and an ASCII name stays ASCII; free text is Chinese."""
    start = plausible[0] if isinstance(plausible, list) and plausible else plausible
    if not isinstance(start, str) or not start:
        return "字" * length
    filler = "a" if start.isascii() else "字"
    return (start + filler * length)[:length]


def _refused_for(answer: dict, field: str) -> bool:
    return answer.get("code") == "invalid_argument" and answer.get("message", "").startswith(f"{field}")


def test_required_fields_and_limits_are_what_the_comments_say(mesh: Mesh) -> None:
    from test_workbench_stories import add_user

    add_user(mesh, "town-app", "430723102000", "resident_app")
    add_user(mesh, "county-relay", "430723000000", "federation")
    contracts = read_contracts()
    checked, wrong, unchecked = 0, [], []
    for method in mesh.methods:
        if method.path in NOT_CALLABLE_AS_TOWNSHIP or method.name.startswith("Deliver") or method.service.endswith("AuthService"):
            continue
        comments = {c.name: c for c in contracts.request_fields(f"{method.input.full_name}")}
        caller = CALLERS.get(method.path, "town-a")
        status, answer = mesh.call(method.path, baseline(method.input, mesh.records), caller)
        if answer.get("code") in ("permission_denied", "unauthenticated"):
            unchecked.append(f"{method.path}: {answer}")
            continue
        if answer.get("code") == "invalid_argument":
            wrong.append(f"{method.path}: the plausible request is refused: {answer.get('message')}")
            continue
        for f in method.input.fields:
            comment = comments.get(f.name)
            if comment is None or f.name in ("page_token", "request_id"):
                continue
            request = baseline(method.input, mesh.records)
            request.pop(f.json_name, None)
            _, left_out = mesh.call(method.path, request, caller)
            refused = _refused_for(left_out, f.name) and "required" in left_out.get("message", "")
            if comment.required and f.type != f.TYPE_BOOL and not _refused_for(left_out, f.name):
                wrong.append(f"{method.path}: {f.name} is documented Required, but leaving it out answers {left_out}")
            elif comment.required is False and refused:
                wrong.append(f"{method.path}: {f.name} is documented Optional, but leaving it out answers {left_out}")
            checked += 1
            limit = comment.max_characters
            if limit is not None:
                # The limit itself is let through and one character more is refused.
                for length, refuse in ((limit, False), (limit + 1, True)):
                    request = baseline(method.input, mesh.records)
                    text = _of_length(request.get(f.json_name), length)
                    request[f.json_name] = [text] if isinstance(request.get(f.json_name), list) else text
                    _, answer = mesh.call(method.path, request, caller)
                    if _refused_for(answer, f.name) != refuse:
                        wrong.append(f"{method.path}: {f.name} is documented at most {limit} characters, but {length} answer {answer}")
                    checked += 1
    assert not wrong, f"{len(wrong)} comments the services do not keep:\n" + "\n".join(wrong)
    assert not unchecked, "a township's user could not call:\n" + "\n".join(unchecked)
    assert checked >= 150, checked

