import PinganAccess

/// Places the in-process suites use: two sibling townships of 澧县 and a generated village in
/// each (labelled （生成） where they are loaded).
public enum Place {
    public static let lixian = "430723000000"
    public static let townA = "430723102000"
    public static let townB = "430723103000"
    public static let villageA = "430723102201"
    public static let villageB = "430723103201"
}

/// The `Pingan-Principal` header of a person at `centre` with `roles`.
public func person(_ centre: String, _ roles: Set<Role>) throws -> (String, String) {
    try TestMesh.principal(centre: centre, roles: roles)
}
