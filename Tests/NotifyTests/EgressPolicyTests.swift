import Foundation
@testable import NotifyService
import PinganConnect
import PinganRuntime
import PinganTestSupport
import Testing

/// Where a webhook may go, without a database and without DNS: the special-purpose address
/// table row by row, the `host:port` allow list, and the strict reading of a URL.
@Suite("notify's webhook egress policy")
struct EgressPolicyTests {
    static func address(_ text: String) throws -> ResolvedAddress {
        try #require(ResolvedAddress(literal: text), "\(text) is not an address")
    }

    /// The address `offset` after `address` (negative: before), wrapping nothing: nil past
    /// either end of the family.
    static func step(_ address: ResolvedAddress, by offset: Int) -> ResolvedAddress? {
        var bytes = address.bytes
        var carry = offset
        for index in bytes.indices.reversed() where carry != 0 {
            let sum = Int(bytes[index]) + carry
            bytes[index] = UInt8(truncatingIfNeeded: sum)
            carry = sum < 0 ? -1 : sum > 255 ? 1 : 0
        }
        return carry == 0 ? ResolvedAddress(bytes: bytes) : nil
    }

    // MARK: The table

    @Test("the table holds every special-purpose block of the IANA registries")
    func everyRegistryBlockIsARow() {
        #expect(Set(SpecialPurposeAddresses.ipv4.map(\.description)) == [
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
            "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24",
            "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
        ])
        // ResolvedAddress writes IPv6 without :: compression.
        #expect(Set(SpecialPurposeAddresses.ipv6.map(\.description)) == [
            "0:0:0:0:0:0:0:0/128", "0:0:0:0:0:0:0:1/128", "0:0:0:0:0:ffff:0:0/96", "64:ff9b:0:0:0:0:0:0/96", "64:ff9b:1:0:0:0:0:0/48",
            "100:0:0:0:0:0:0:0/64", "2001:0:0:0:0:0:0:0/23", "2001:db8:0:0:0:0:0:0/32", "2002:0:0:0:0:0:0:0/16",
            "2620:4f:8000:0:0:0:0:0/48", "3fff:0:0:0:0:0:0:0/20", "5f00:0:0:0:0:0:0:0/16", "fc00:0:0:0:0:0:0:0/7",
            "fe80:0:0:0:0:0:0:0/10", "ff00:0:0:0:0:0:0:0/8",
            "0:0:0:0:0:0:0:0/3", "4000:0:0:0:0:0:0:0/2", "8000:0:0:0:0:0:0:0/1",
        ])
    }

    /// Each row's first and last address are inside it (or inside a more specific row within
    /// it), and the addresses just outside it are not decided by it.
    @Test("each row's boundaries", arguments: SpecialPurposeAddresses.ipv4 + SpecialPurposeAddresses.ipv6)
    func boundaries(of block: AddressBlock) throws {
        for edge in [block.first, block.last] {
            #expect(block.contains(edge), "\(edge) \(block)")
            let decided = try #require(SpecialPurposeAddresses.block(containing: edge), "\(edge) is public")
            #expect(decided.prefixLength >= block.prefixLength && block.contains(decided.first), "\(edge) decided by \(decided), not \(block)")
        }
        for outside in [Self.step(block.first, by: -1), Self.step(block.last, by: 1)].compactMap({ $0 }) {
            #expect(!block.contains(outside), "\(outside) \(block)")
            if let decided = SpecialPurposeAddresses.block(containing: outside) {
                #expect(decided.description != block.description, "\(outside) decided by \(block)")
            }
        }
        if case .refused = block.treatment {
            #expect(SpecialPurposeAddresses.restriction(of: block.first) != nil)
            #expect(SpecialPurposeAddresses.restriction(of: block.last) != nil)
        }
    }

    @Test("named boundaries: refused inside, public just outside")
    func namedBoundaries() throws {
        let refused = [
            "0.0.0.0", "0.255.255.255", "10.0.0.0", "10.255.255.255", "100.64.0.0", "100.127.255.255", "127.0.0.1", "127.255.255.255",
            "169.254.169.254", "172.16.0.0", "172.31.255.255", "192.0.0.0", "192.0.0.255", "192.0.2.0", "192.0.2.255",
            "192.31.196.0", "192.31.196.255", "192.52.193.0", "192.52.193.255", "192.88.99.0", "192.88.99.255", "192.168.0.0",
            "192.168.255.255", "192.175.48.0", "192.175.48.255", "198.18.0.0", "198.19.255.255", "198.51.100.0", "198.51.100.255",
            "203.0.113.0", "203.0.113.255", "224.0.0.0", "239.255.255.255", "240.0.0.0", "255.255.255.254", "255.255.255.255",
            "::", "::1", "::ffff:127.0.0.1", "::ffff:198.18.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::c612:1",
            "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "100::", "100::ffff:ffff:ffff:ffff", "2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff", "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
            "5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::",
            "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ff00::", "ff02::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "::2", "::127.0.0.1", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::", "fec0::1",
        ]
        for text in refused {
            #expect(SpecialPurposeAddresses.restriction(of: try Self.address(text)) != nil, "\(text) is refused")
        }
        let public_ = [
            "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0",
            "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "191.255.255.255", "192.0.1.0", "192.0.3.0",
            "192.31.195.255", "192.31.197.0", "192.52.192.255", "192.52.194.0", "192.88.98.255", "192.88.100.0", "192.167.255.255",
            "192.169.0.0", "192.175.47.255", "192.175.49.0", "198.17.255.255", "198.20.0.0", "198.51.99.255", "198.51.101.0",
            "203.0.112.255", "203.0.114.0", "223.255.255.255",
            "::ffff:8.8.8.8", "64:ff9b::808:808", "2000::", "2001:200::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::",
            "2003::", "2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", "2620:4f:8001::", "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "3fff:1000::", "2606:4700:4700::1111", "2400:3200::1",
        ]
        for text in public_ {
            #expect(SpecialPurposeAddresses.restriction(of: try Self.address(text)) == nil, "\(text) is public")
        }
        #expect(SpecialPurposeAddresses.restriction(of: try Self.address("198.18.0.1")) == "a benchmarking address")
        #expect(SpecialPurposeAddresses.restriction(of: try Self.address("::ffff:127.0.0.1")) == "a loopback address (127.0.0.1) inside an IPv6 address")
    }

    @Test("a literal in a special-purpose block is refused before any send; a public one passes unpinned")
    func literalsAreChecked() async throws {
        let policy = EgressPolicy()
        for (url, why) in [
            ("http://198.18.0.1/hook", "a benchmarking address"), ("http://198.19.255.255:8080/", "a benchmarking address"),
            ("http://192.0.2.7/", "TEST-NET-1"), ("http://100.100.100.200/", "carrier-grade NAT"), ("http://0.0.0.0:22/", "this-network"),
            ("http://[::ffff:7f00:1]/", "a loopback address (127.0.0.1)"), ("http://[64:ff9b::a9fe:a9fe]/", "link-local or metadata"),
            ("http://[2001:db8::1]/", "documentation"), ("http://[fd00::1]/", "unique local"), ("http://255.255.255.255/", "limited broadcast"),
        ] {
            await #expect(throws: EgressRefusal.self, "\(url)") { try await policy.check(url) }
            do {
                try await policy.check(url)
            } catch {
                #expect(error.description.contains(why), "\(url): \(error)")
            }
        }
        #expect(try await policy.check("http://8.8.8.8/hook") == EgressClearance(pins: [], isInternal: false))
        #expect(try await policy.check("https://[2606:4700:4700::1111]:8443/") == EgressClearance(pins: [], isInternal: false))
    }

    // MARK: The allow list

    @Test("an allowed entry opens one port of its host, and nothing else")
    func entriesAreHostAndPort() async throws {
        let policy = EgressPolicy(allowed: try WebhookAllowList("127.0.0.1:8090, [::1]:8091,hooks.pingan.invalid:8443,10.0.4.7:80"))
        #expect(try await policy.check("http://127.0.0.1:8090/hook") == EgressClearance(pins: [], isInternal: true))
        #expect(try await policy.check("http://[::1]:8091/hook") == EgressClearance(pins: [], isInternal: true))
        #expect(try await policy.check("http://10.0.4.7/hook") == EgressClearance(pins: [], isInternal: true))
        // A name allowed as a name is not looked up: the deployment vouches for its DNS.
        #expect(try await policy.check("https://hooks.pingan.invalid:8443/x") == EgressClearance(pins: [], isInternal: true))
        for url in [
            "http://127.0.0.1/", "http://127.0.0.1:8091/", "http://127.0.0.1:5432/", "http://127.0.0.2:8090/", "http://[::1]:8090/",
            "https://10.0.4.7/", "http://10.0.4.8/",
        ] {
            await #expect(throws: EgressRefusal.self, "\(url)") { try await policy.check(url) }
        }
        // The same name at another port is looked up like any other, and goes nowhere.
        await #expect(throws: EgressRefusal.unresolvable("hooks.pingan.invalid")) { try await policy.check("https://hooks.pingan.invalid/x") }
        // A public address is public at every port, listed or not.
        #expect(try await policy.check("http://8.8.8.8:8090/") == EgressClearance(pins: [], isInternal: false))
    }

    @Test("a bare host, a bad port or a URL in WEBHOOK_ALLOWED_HOSTS stops the service at start, naming the entry")
    func badEntriesAreConfigurationErrors() throws {
        for (text, problem) in [
            ("127.0.0.1", "the entry \"127.0.0.1\" has no port: each entry is host:port"),
            ("127.0.0.1:8090,localhost", "the entry \"localhost\" has no port"),
            ("[::1]", "the entry \"[::1]\" has no port"),
            ("::1", "an IPv6 address without brackets"),
            ("fd00::1:443", "an IPv6 address without brackets"),
            ("127.0.0.1:0", "a port is a number from 1 to 65535"),
            ("127.0.0.1:65536", "a port is a number from 1 to 65535"),
            ("127.0.0.1:", "a port is a number from 1 to 65535"),
            ("127.0.0.1:80x", "a port is a number from 1 to 65535"),
            ("http://127.0.0.1:8090", "is not host:port"),
            ("*:80", "malformed host"),
            ("127.1:80", "looks like an IPv4 address"),
        ] {
            #expect(throws: ConfigurationError.self, "\(text)") { try WebhookAllowList(text) }
            do {
                _ = try WebhookAllowList(text)
            } catch {
                #expect(error.variable == "WEBHOOK_ALLOWED_HOSTS" && error.description.contains(problem), "\(text): \(error)")
            }
        }
        #expect(try WebhookAllowList("") == .empty)
        #expect(try WebhookAllowList(" 127.0.0.1:8090 , ,Hooks.Example.ORG:443").entries.map(\.description).sorted() == ["127.0.0.1:8090", "hooks.example.org:443"])
        // Read where the service reads it.
        let reader = SettingsReader(["MESH_SECRET": String(repeating: "m", count: 32), "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"])
        #expect(throws: ConfigurationError.self) { try NotifySettings(reader) }
        let allowed = try NotifySettings(SettingsReader(["MESH_SECRET": String(repeating: "m", count: 32), "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1:8090"]))
        #expect(allowed.allowedHosts == (try WebhookAllowList("127.0.0.1:8090")))
    }

    // MARK: The URL

    @Test("a URL with a control character, raw or percent-encoded, or a part parsers could read two ways is refused")
    func malformedURLs() async throws {
        let policy = EgressPolicy()
        for (url, why) in [
            ("http://8.8.8.8/hook%00", "control character (%00)"),
            ("http://8.8.8.8/a%0d%0aHost:%20x", "control character (%0d)"),
            ("http://8.8.8.8/a?b=%1F", "control character (%1F)"),
            ("http://8.8.8.8/a%7F", "control character (%7F)"),
            ("http://8.8.8.8/a%C2%85", "control character (%C2%85)"),
            ("http://8.8.8.8/a\u{0}b", "control character (U+0000)"),
            ("http://8.8.8.8/a\nb", "control character (U+000A)"),
            ("http://8.8.8.8/a\tb", "control character (U+0009)"),
            ("http://8.8.8.8/a\u{7F}", "control character (U+007F)"),
            ("http://8.8.8.8/a\u{85}", "outside ASCII"),
            ("http://8.8.8.8/a b", "a space"),
            ("http://8.8.8.8/%zz", "two hexadecimal digits"),
            ("http://8.8.8.8/%4", "two hexadecimal digits"),
            ("http://8.8.8.8/a\\b", "must percent-encode"),
            ("http://8.8.8.8\\@127.0.0.1/", "must percent-encode"),
            ("http://a@b@8.8.8.8/", "more than one @"),
            ("http://8.8.8.8:0/", "from 1 to 65535"),
            ("http://8.8.8.8:65536/", "from 1 to 65535"),
            ("http://8.8.8.8:/", "from 1 to 65535"),
            ("http://8.8.8.8:080/", "from 1 to 65535"),
            ("http://127.1/", "looks like an IPv4 address"),
            ("http://2130706433/", "looks like an IPv4 address"),
            ("http://0x7f.0.0.1/", "looks like an IPv4 address"),
            ("http://0177.0.0.1/", "looks like an IPv4 address"),
            ("http://[::1%25lo]/", "malformed host"),
            ("http://[8.8.8.8]/", "malformed host"),
            ("http://exa%6dple.org/", "malformed host"),
            ("http://example..org/", "malformed host"),
            ("http://例子.中国/", "outside ASCII"),
            ("http://8.8.8.8/[x]", "[ or ] outside its host"),
            ("http:8.8.8.8/", "http://host/"),
            ("http:///hook", "must name a host"),
            ("ftp://8.8.8.8/", "must be an http or https URL"),
        ] {
            await #expect(throws: EgressRefusal.self, "\(url)") { try await policy.check(url) }
            do {
                try await policy.check(url)
            } catch {
                #expect(error.description.contains(why), "\(url.debugDescription): \(error)")
            }
        }
        for url in [
            "https://8.8.8.8/hook?key=a%20b&x=%E4%B8%AD#frag", "http://user:p%40ss@8.8.8.8:8080/p", "HTTPS://8.8.8.8/",
            "http://8.8.8.8/cgi-bin/webhook/send?key=abc-123_~.!$&'()*+,;=:@/", "https://[2606:4700::1]:8443/",
        ] {
            #expect(try await policy.check(url) == EgressClearance(pins: [], isInternal: false), "\(url)")
        }
    }

    // MARK: What a failed send stores

    @Test("a send to an allowed internal receiver that got no answer stores no detail; a public one keeps it")
    func internalErrorsCarryNoDetail() async throws {
        let closed = try freePort()
        let policy = EgressPolicy(allowed: try WebhookAllowList("127.0.0.1:\(closed)"))
        let sender = HTTPPushSender(transport: CurlTransport(), egress: policy, timeout: .seconds(3))
        func delivery(to url: String) -> OutgoingDelivery {
            OutgoingDelivery(
                id: UUID(), payload: "{}", event: "warning.raised", url: url, secret: "a-shared-secret-of-24-b",
                attempts: 0, subscription: UUID(), channel: .webhook, email: ""
            )
        }
        let toInternal = await sender.send(delivery(to: "http://127.0.0.1:\(closed)/hook"))
        #expect(toInternal.status == nil && toInternal.error == HTTPPushSender.withheld)
        #expect(toInternal.withheldDetail?.contains("unavailable") == true, "\(toInternal.withheldDetail ?? "")")
        // A public receiver keeps the transport's words (a public send is not made here: this
        // machine's network may answer for the internet), without the URL's credentials.
        let failure = ConnectError(.unavailable, "https://user:hunter2@hooks.example.org/x: peer unavailable (Connection refused)")
        let public_ = HTTPPushSender.unanswered(failure, url: "https://user:hunter2@hooks.example.org/x", internal: false, after: .zero)
        #expect(public_.error == "unavailable: https://hooks.example.org/x: peer unavailable (Connection refused)" && public_.withheldDetail == nil)
        let private_ = HTTPPushSender.unanswered(failure, url: "https://user:hunter2@hooks.example.org/x", internal: true, after: .zero)
        #expect(private_.error == HTTPPushSender.withheld && private_.withheldDetail == public_.error)
    }
}
