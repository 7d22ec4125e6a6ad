/// What the index's rules refuse, for the handler to answer with the matching Connect code:
/// each case names what the caller would have to change.
enum IndexRefusal: Error, Equatable, CustomStringConvertible {
    /// The month is frozen and the caller gave no reason to recompute it.
    case frozenNeedsReason(version: Int)
    /// The month is frozen and only the root centre's administrator may recompute it.
    case frozenNeedsAdministrator(version: Int)
    /// The action is done or withdrawn, so it cannot be completed (again).
    case actionNotOpen(IndexAction.Status)

    var description: String {
        switch self {
        case .frozenNeedsReason(let version): "the month is frozen (version \(version)); recomputing it needs a reason"
        case .frozenNeedsAdministrator(let version): "the month is frozen (version \(version)); only an administrator of the root centre may recompute it"
        case .actionNotOpen(let status): "the action is \(status.rawValue), not open"
        }
    }
}

/// A request field that failed a domain check, for the handler to report as
/// `invalid_argument` naming the field as the request names it.
struct FieldProblem: Error, Equatable {
    let field: String
    let problem: String
}
