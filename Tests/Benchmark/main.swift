// pingan-bench: load generator for a running mesh. It prints figures; it asserts nothing.
//
//   pingan-bench get-division --url http://127.0.0.1:8081 [--concurrency 16] [--requests 20000] [--codec proto|json]
//
// Each worker calls GetDivision in a loop over the libcurl client (keep-alive, one
// connection per concurrent worker) on a code picked from the real divisions of Changde.
import Foundation
import PinganConnect
import PinganContracts

struct Options {
    var command = ""
    var url = "http://127.0.0.1:8081"
    var concurrency = 16
    var requests = 20_000
    var codec = ConnectCodec.proto

    init(_ arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        command = iterator.next() ?? ""
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--url": url = value
            case "--concurrency": concurrency = try Self.positive(value, flag)
            case "--requests": requests = try Self.positive(value, flag)
            case "--codec":
                guard let parsed = ConnectCodec.allCases.first(where: { $0.rawValue.hasSuffix(value) }) else { throw BenchError("--codec is proto or json") }
                codec = parsed
            default: throw BenchError("unknown flag \(flag)")
            }
        }
    }

    static func positive(_ text: String, _ flag: String) throws -> Int {
        guard let value = Int(text), value > 0 else { throw BenchError("\(flag) must be a positive integer") }
        return value
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Latencies of one run, summarised as throughput and percentiles.
struct Summary {
    let latencies: [Duration]
    let elapsed: Duration
    let errors: Int

    func percentile(_ p: Double) -> Duration {
        let sorted = latencies.sorted()
        guard !sorted.isEmpty else { return .zero }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    func print(label: String, concurrency: Int) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(latencies.count) / seconds
        Swift.print(String(
            format: "%@: %d calls, concurrency %d, %.0f req/s, p50 %.2f ms, p99 %.2f ms, errors %d",
            label, latencies.count, concurrency, rate, percentile(0.5).ms, percentile(0.99).ms, errors
        ))
    }
}

extension Duration {
    var ms: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

/// Runs `call` `total` times across `concurrency` workers.
func measure(concurrency: Int, total: Int, _ call: @escaping @Sendable (Int) async throws -> Void) async -> Summary {
    let started = ContinuousClock.now
    let results = await withTaskGroup(of: ([Duration], Int).self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                var latencies: [Duration] = []
                var errors = 0
                var index = worker
                while index < total {
                    let begin = ContinuousClock.now
                    do {
                        try await call(index)
                        latencies.append(ContinuousClock.now - begin)
                    } catch {
                        errors += 1
                    }
                    index += concurrency
                }
                return (latencies, errors)
            }
        }
        return await group.reduce(into: ([Duration](), 0)) { $0.0 += $1.0; $0.1 += $1.1 }
    }
    return Summary(latencies: results.0, elapsed: ContinuousClock.now - started, errors: results.1)
}

let codes = ["430700000000", "430723000000", "430781103000", "430702002000", "430726000000", "430721101000"]

do {
    let options = try Options(CommandLine.arguments)
    switch options.command {
    case "get-division":
        let transport = CurlTransport()
        var configuration = ConnectClient.Configuration()
        configuration.codec = options.codec
        let client = ConnectClient(baseURL: options.url, transport: transport, configuration: configuration)
        // Warm up: open the connections and let the service fill its caches.
        _ = await measure(concurrency: options.concurrency, total: options.concurrency * 20) { index in
            var request = Pingan_Grid_V1_GetDivisionRequest()
            request.code = codes[index % codes.count]
            _ = try await client.call(DivisionServiceMethods.getDivision, request)
        }
        let summary = await measure(concurrency: options.concurrency, total: options.requests) { index in
            var request = Pingan_Grid_V1_GetDivisionRequest()
            request.code = codes[index % codes.count]
            _ = try await client.call(DivisionServiceMethods.getDivision, request)
        }
        summary.print(label: "GetDivision via libcurl client (\(options.codec.rawValue))", concurrency: options.concurrency)
        print("TCP connections opened: \(transport.connectionsOpened)")
    default:
        throw BenchError("usage: pingan-bench get-division --url URL [--concurrency N] [--requests N] [--codec proto|json]")
    }
} catch {
    print("pingan-bench: \(error)")
    exit(2)
}
