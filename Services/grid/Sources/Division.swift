import PinganAccess
import PinganDomain
import PinganContracts

/// A division as stored: code, name and parent.
public struct Division: Sendable, Equatable {
    public let code: DivisionCode
    public let name: String

    public init(code: DivisionCode, name: String) {
        self.code = code
        self.name = name
    }

    public var level: DivisionLevel { code.level }
    public var parent: DivisionCode? { code.parent }

    var message: Pingan_Grid_V1_Division {
        var message = Pingan_Grid_V1_Division()
        message.code = code.rawValue
        message.name = name
        message.level = level.message
        message.parentCode = parent?.rawValue ?? ""
        return message
    }
}

extension DivisionLevel {
    var message: Pingan_Grid_V1_DivisionLevel {
        switch self {
        case .city: .city
        case .county: .county
        case .township: .township
        case .village: .village
        }
    }
}
