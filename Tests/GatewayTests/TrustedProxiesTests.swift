import Foundation
@testable import GatewayService
import PinganRuntime
import PinganTestSupport
import Testing

/// `X-Forwarded-For` names the client only when a trusted proxy wrote it, and then the
/// entry nearest the gateway that is not a proxy: what the client wrote to its left is not
/// believed.
@Suite("trusted proxies")
struct TrustedProxiesTests {
    @Test func theSettingIsAListOfAddressesAndRangesAndATypoStopsTheGateway() throws {
        let proxies = try TrustedProxies(parsing: " 10.0.0.0/8, 192.0.2.7 ,fd00::/8,, ::ffff:172.16.0.0/108")
        #expect(proxies.description == "10.0.0.0/8, 192.0.2.7/32, fd00::/8, 172.16.0.0/12")
        #expect(try TrustedProxies(parsing: "").isEmpty)
        #expect(throws: TrustedProxiesError.hostBitsSet("10.0.0.1/8", suggestion: "10.0.0.0/8")) { try TrustedProxies(parsing: "10.0.0.1/8") }
        #expect(throws: TrustedProxiesError.badPrefix("10.0.0.0/33")) { try TrustedProxies(parsing: "10.0.0.0/33") }
        #expect(throws: TrustedProxiesError.badPrefix("10.0.0.0/")) { try TrustedProxies(parsing: "10.0.0.0/") }
        #expect(throws: TrustedProxiesError.notAnAddress("ingress.local")) { try TrustedProxies(parsing: "10.0.0.0/8, ingress.local") }

        let base = ["MESH_SECRET": TestMesh.secret, "TOKEN_SECRET": TestMesh.tokenSecret]
        #expect(try GatewaySettings(SettingsReader(base)).trustedProxies.isEmpty)
        let read = try GatewaySettings(SettingsReader(base.merging(["TRUSTED_PROXIES": "10.0.0.0/8,::1"]) { $1 }))
        #expect(read.trustedProxies.description == "10.0.0.0/8, ::1/128")
        do {
            _ = try GatewaySettings(SettingsReader(base.merging(["TRUSTED_PROXIES": "10.0.0.1/8"]) { $1 }))
            Issue.record("a range with host bits set was accepted")
        } catch {
            #expect("\(error)" == "TRUSTED_PROXIES: \"10.0.0.1/8\" has address bits set past its prefix length; did you mean 10.0.0.0/8?")
        }
    }

    @Test func theClientIsTheNearestForwardedAddressThatIsNotAProxy() throws {
        let proxies = try TrustedProxies(parsing: "10.0.0.0/8, 2001:db8:1::/48")
        // Not from a proxy: the peer as it came, whatever the header says.
        #expect(proxies.client(peer: "203.0.113.7", forwardedFor: ["198.51.100.1"]) == "203.0.113.7")
        #expect(proxies.client(peer: nil, forwardedFor: ["198.51.100.1"]) == nil)
        #expect(TrustedProxies().client(peer: "10.0.0.5", forwardedFor: ["198.51.100.1"]) == "10.0.0.5")
        // From a proxy: the entry it appended, not what the client wrote before it.
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["198.51.100.1"]) == "198.51.100.1")
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["1.1.1.1, 198.51.100.1"]) == "198.51.100.1")
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["1.1.1.1", "198.51.100.1"]) == "198.51.100.1")
        // Through two proxies; and from a proxy that names only proxies, the farthest of them.
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["1.1.1.1, 198.51.100.1, 10.2.3.4"]) == "198.51.100.1")
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["10.9.9.9,10.2.3.4"]) == "10.9.9.9")
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: []) == "10.0.0.5")
        // A malformed entry ends the walk at the last hop vouched for.
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["198.51.100.1, unknown"]) == "10.0.0.5")
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["198.51.100.1, unknown, 10.2.3.4"]) == "10.2.3.4")
        // Ports, brackets, IPv6 in one text, and an IPv4 peer on a dual-stack socket.
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["198.51.100.1:4711"]) == "198.51.100.1")
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["[2001:DB8:0:0::7]:4711"]) == "2001:db8::7")
        #expect(proxies.client(peer: "10.0.0.5", forwardedFor: ["2001:db8:0:0:1:0:0:7"]) == "2001:db8::1:0:0:7")
        #expect(proxies.client(peer: "::ffff:10.0.0.5", forwardedFor: ["::ffff:198.51.100.1"]) == "198.51.100.1")
        #expect(proxies.client(peer: "2001:db8:1::9", forwardedFor: ["2001:db8:2::9"]) == "2001:db8:2::9")
        #expect(proxies.client(peer: "2001:db8:2::9", forwardedFor: ["198.51.100.1"]) == "2001:db8:2::9")
    }

    @Test func addressesAreReadStrictly() {
        for text in ["192.0.2.7", "0.0.0.0", "::", "::1", "1:2:3:4:5:6:7:8", "1::", "::ffff:192.0.2.7", "64:ff9b::192.0.2.7", "fe80::1:2"] {
            #expect(TrustedProxies.Address(parsing: text) != nil, "\(text)")
        }
        for text in ["", "192.0.2", "192.0.2.7.1", "192.0.2.256", "192.0.02.7", "192.0.2.-1", " 192.0.2.7", "1:2:3:4:5:6:7:8:9",
                     "1:2:3:4:5:6:7::8", "1::2::3", "12345::", "fe80::1%eth0", "g::1", ":1", "1:", "::192.0.2.7:1", "localhost"] {
            #expect(TrustedProxies.Address(parsing: text) == nil, "\(text)")
        }
        #expect(TrustedProxies.Address(parsing: "0:0:0:0:0:0:0:1")?.description == "::1")
        #expect(TrustedProxies.Address(parsing: "1:0:0:2:0:0:0:3")?.description == "1:0:0:2::3")
        #expect(TrustedProxies.Address(parsing: "1:0:2:0:3:0:4:0")?.description == "1:0:2:0:3:0:4:0")
        #expect(TrustedProxies.Address(parsing: "::ffff:192.0.2.7")?.description == "192.0.2.7")
    }
}
