import Foundation
import PinganAccess
import PinganTestSupport

/// Places and callers the in-process suites use: two sibling townships of 澧县 and a
/// generated village in each (labelled （生成） where they are loaded).
enum Place {
    static let lixian = "430723000000"
    static let townA = "430723102000"
    static let townB = "430723103000"
    static let villageA = "430723102201"
    static let villageB = "430723103201"
}

/// The `Pingan-Principal` header of a person at `centre` with `roles`.
func person(_ centre: String, _ roles: Set<Role>) throws -> (String, String) {
    try TestMesh.principal(centre: centre, roles: roles)
}
