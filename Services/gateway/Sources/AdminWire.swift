import Foundation
import PinganAccess
import PinganContracts
import PinganDomain

// The admin records as `pingan.gateway.v1` answers them.

extension UserRecord {
    var wire: Pingan_Gateway_V1_User {
        var user = Pingan_Gateway_V1_User()
        user.username = username
        user.centreCode = centre.rawValue
        user.roles = roles.sorted()
        user.disabled = disabled
        user.createdAt = createdAt.wireTimestamp
        user.departmentKey = departmentKey ?? ""
        return user
    }
}

extension APIKeyRecord {
    var wire: Pingan_Gateway_V1_ApiKey {
        var key = Pingan_Gateway_V1_ApiKey()
        key.name = name
        key.centreCode = centre.rawValue
        key.roles = roles.sorted()
        key.createdAt = createdAt.wireTimestamp
        key.revokedAt = revokedAt?.wireTimestamp ?? ""
        return key
    }
}

extension AuditEntry {
    var wire: Pingan_Gateway_V1_AdminAuditEntry {
        var entry = Pingan_Gateway_V1_AdminAuditEntry()
        entry.at = at.wireTimestamp
        entry.principal = record.principal
        entry.centreCode = record.centre.rawValue
        entry.method = record.method
        entry.target = record.target
        entry.targetCentreCode = targetCentre.rawValue
        entry.detail = record.detail
        return entry
    }
}

extension Set<Role> {
    /// Role names as stored and answered: sorted, so the same roles always read the same.
    var wire: [String] { map(\.rawValue).sorted() }
}
