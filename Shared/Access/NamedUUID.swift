import Crypto
import Foundation

extension UUID {
    /// A name-based UUID (the version-5 layout over SHA-256) of `name`: the same name gives the
    /// same id in every service and every run. Imports key records of an older system by it
    /// (`pingan-case|<legacy id>`), so a record loaded twice is one record, and one service's
    /// import can name another's record by its legacy id alone.
    public static func named(_ name: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
