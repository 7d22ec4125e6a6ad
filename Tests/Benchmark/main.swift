// pingan-bench: load generator for a running mesh. It prints figures; it asserts nothing.
//
//   pingan-bench get-division --url URL [--token T] [--concurrency 16] [--requests 20000] [--codec proto|json]
//       GetDivision in a loop over the libcurl client (keep-alive) on real codes of Changde;
//       with --token through a gateway, to measure what the gateway adds.
//   pingan-bench flow --url GATEWAY --token T (--grids FILE | --grid G --member M) --receiver-port P
//       [--concurrency 8] [--requests 400] [--rate R --seconds S] [--missing FILE]
//       Reports high-risk incidents through the gateway and waits for each one's webhook on
//       a receiver it runs itself: incidents accepted per second, and report-to-webhook latency.
//       With --rate, reports arrive open-loop at R per second for S seconds (as a city's grid
//       workers would, whether or not the mesh keeps up), at most --concurrency in flight.
//       With --grids (lines "GRID MEMBER VILLAGE", as `seed` writes them), report n comes from
//       line n modulo their number, so the reports spread as the file orders them; with
//       --missing, the incidents whose own webhook did not arrive are written there, one a line.
//   pingan-bench seed --url GATEWAY --token T --villages FILE --receiver URL --secret S --out FILE
//       [--concurrency 8]
//       For each line "VILLAGE" of FILE, creates a grid in the village with one grid worker;
//       a line "VILLAGE GRID MEMBER" is kept as it is. Subscribes URL to the warnings raised
//       (warning.raised) of every township (or street) the villages lie in, as each centre
//       would subscribe its own. Writes "GRID MEMBER VILLAGE" lines to --out, in FILE's order.
//   pingan-bench reports --url GATEWAY --token T --grid G --member M --parties A,B --rate R --seconds S
//       Reports incidents that all name the parties A and B (so they join one case, as the
//       same-parties rule says) at R a second for S seconds, open loop; waits for no webhook.
//       The hot case of bench.sh's `hotcase` section is built and loaded with it.
//   pingan-bench ladder --url GATEWAY --token T --village V [--concurrency 8] [--requests 400]
//       Opens --requests cases in village V through the gateway (IntakeCase, not timed), then
//       advances each one rung (StartRung then EndRung) at --concurrency: cases advanced per second.
import Foundation
import Hummingbird
import Logging
import PinganConnect
import PinganContracts
import Synchronization

struct Options {
    var command = ""
    var url = "http://127.0.0.1:8081"
    var concurrency = 16
    var requests = 20_000
    var codec = ConnectCodec.proto
    var token: String?
    var grid = ""
    var member = ""
    var receiverPort = 0
    var village = ""
    var rate = 0
    var seconds = 0
    var parties: [String] = []
    var grids = ""
    var missing = ""
    var villages = ""
    var receiver = ""
    var secret = ""
    var out = ""

    init(_ arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        command = iterator.next() ?? ""
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--url": url = value
            case "--token": token = value
            case "--grid": grid = value
            case "--member": member = value
            case "--village": village = value
            case "--parties": parties = value.split(separator: ",").map(String.init)
            case "--receiver-port": receiverPort = try Self.positive(value, flag)
            case "--secret": secret = value
            case "--grids": grids = value
            case "--missing": missing = value
            case "--villages": villages = value
            case "--receiver": receiver = value
            case "--out": out = value
            case "--concurrency": concurrency = try Self.positive(value, flag)
            case "--requests": requests = try Self.positive(value, flag)
            case "--rate": rate = try Self.positive(value, flag)
            case "--seconds": seconds = try Self.positive(value, flag)
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

/// Starts `call` `rate` times a second for `seconds` seconds on a fixed schedule (open loop:
/// a slow answer does not delay the next arrival), with at most `inFlight` running; a call
/// that would pass that bound counts as an error, as a report the mesh could not take.
func measureAtRate(rate: Int, seconds: Int, inFlight: Int, _ call: @escaping @Sendable (Int) async throws -> Void) async -> Summary {
    let started = ContinuousClock.now
    let running = Counter()
    let results = await withTaskGroup(of: (Duration?, Int).self) { group in
        for index in 0..<(rate * seconds) {
            let due = started + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(rate))
            try? await Task.sleep(until: due, clock: .continuous)
            guard running.value.add(1, ordering: .relaxed).newValue <= inFlight else {
                running.value.subtract(1, ordering: .relaxed)
                group.addTask { (nil, 1) }
                continue
            }
            group.addTask {
                defer { running.value.subtract(1, ordering: .relaxed) }
                let begin = ContinuousClock.now
                do {
                    try await call(index)
                    return (ContinuousClock.now - begin, 0)
                } catch {
                    return (nil, 1)
                }
            }
        }
        return await group.reduce(into: ([Duration](), 0)) { totals, result in
            if let latency = result.0 { totals.0.append(latency) }
            totals.1 += result.1
        }
    }
    return Summary(latencies: results.0, elapsed: ContinuousClock.now - started, errors: results.1)
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
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
        let call = CallOptions(headers: options.token.map { [("Authorization", "Bearer \($0)")] } ?? [])
        // Warm up: open the connections and let the service fill its caches.
        _ = await measure(concurrency: options.concurrency, total: options.concurrency * 20) { index in
            var request = Pingan_Grid_V1_GetDivisionRequest()
            request.code = codes[index % codes.count]
            _ = try await client.call(DivisionServiceMethods.getDivision, request, options: call)
        }
        let summary = await measure(concurrency: options.concurrency, total: options.requests) { index in
            var request = Pingan_Grid_V1_GetDivisionRequest()
            request.code = codes[index % codes.count]
            _ = try await client.call(DivisionServiceMethods.getDivision, request, options: call)
        }
        let route = options.token == nil ? "direct" : "through the gateway"
        summary.print(label: "GetDivision \(route), libcurl client (\(options.codec.rawValue))", concurrency: options.concurrency)
        print("TCP connections opened: \(transport.connectionsOpened)")
    case "flow":
        try await runFlow(options)
    case "ladder":
        try await runLadder(options)
    case "reports":
        try await runReports(options)
    case "seed":
        try await runSeed(options)
    default:
        throw BenchError("usage: pingan-bench get-division --url URL [--concurrency N] [--requests N] [--codec proto|json]")
    }
} catch {
    print("pingan-bench: \(error)")
    exit(2)
}

/// Arrival times of webhooks, by the incident they report.
final class Arrivals: Sendable {
    private let times = Mutex<[String: ContinuousClock.Instant]>([:])
    private let other = Atomic<Int>(0)
    func record(_ incident: String) { times.withLock { $0[incident] = $0[incident] ?? .now } }
    func recordOther() { other.add(1, ordering: .relaxed) }
    var snapshot: [String: ContinuousClock.Instant] { times.withLock { $0 } }
    var others: Int { other.load(ordering: .relaxed) }
    /// How many of `incidents` have arrived.
    func count(of incidents: some Sequence<String>) -> Int {
        times.withLock { times in incidents.reduce(0) { $0 + (times[$1] == nil ? 0 : 1) } }
    }
}

/// A grid worker who reports: the grid, its member and the village the grid lies in.
struct Reporter: Sendable {
    let grid: String
    let member: String
    let village: String

    /// The reporters of `--grids FILE` (lines "GRID MEMBER VILLAGE"), or the one of
    /// `--grid` and `--member`.
    static func list(_ options: Options) throws -> [Reporter] {
        guard !options.grids.isEmpty else {
            guard !options.grid.isEmpty, !options.member.isEmpty else { throw BenchError("--grids FILE, or --grid and --member, are required") }
            return [Reporter(grid: options.grid, member: options.member, village: "")]
        }
        let text = try String(contentsOfFile: options.grids, encoding: .utf8)
        let reporters = text.split(separator: "\n").compactMap { line -> Reporter? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 2 else { return nil }
            return Reporter(grid: fields[0], member: fields[1], village: fields.count > 2 ? fields[2] : "")
        }
        guard !reporters.isEmpty else { throw BenchError("\(options.grids) names no grid") }
        return reporters
    }
}

func runFlow(_ options: Options) async throws {
    guard let token = options.token, options.receiverPort > 0 else {
        throw BenchError("flow needs --token, --grids (or --grid and --member) and --receiver-port")
    }
    let reporters = try Reporter.list(options)
    let arrivals = Arrivals()
    let router = Router()
    router.post("hook") { request, _ -> HTTPResponse.Status in
        // The incident's id found by its key in the bytes: the load generator shares the
        // cores with what it measures, and parsing each body into objects cost it the most.
        // A push about no incident (a cluster's, a notice) has none and counts as another push.
        let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
        let key = Array(#""incident_id":""#.utf8)
        if let start = body.indices.dropLast(key.count + 36).first(where: { body[$0..<($0 + key.count)].elementsEqual(key) }),
           body[start + key.count + 36] == UInt8(ascii: "\"") {
            arrivals.record(String(decoding: body[(start + key.count)..<(start + key.count + 36)], as: UTF8.self))
        } else {
            arrivals.recordOther()
        }
        return .ok
    }
    var logger = Logger(label: "receiver")
    logger.logLevel = .critical
    let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: options.receiverPort)), logger: logger)
    let server = Task { try await receiver.runService(gracefulShutdownSignals: []) }
    try await Task.sleep(for: .milliseconds(300))

    let client = ConnectClient(baseURL: options.url, transport: CurlTransport())
    let call = CallOptions(timeout: .seconds(30), headers: [("Authorization", "Bearer \(token)")])
    let sent = Mutex<[String: ContinuousClock.Instant]>([:])
    let report: @Sendable (Int) async throws -> Void = { index in
        let reporter = reporters[index % reporters.count]
        var request = Pingan_Grid_V1_ReportIncidentRequest()
        request.gridID = reporter.grid
        request.reporterMemberID = reporter.member
        request.category = .neighbour
        request.description_p = "压测事件 \(index)：邻里纠纷，扬言动手"
        // Other people in every report, across runs too: the same parties again join one case.
        // Sixteen hex digits: with eight, two of 18,000 reports shared a name about one run in
        // twenty-five, and the second joined the first's case (one webhook fewer).
        var party = Pingan_Grid_V1_Party()
        let hex = String(UInt64.random(in: 0 ... .max), radix: 16)
        party.name = "测试" + String(repeating: "0", count: 16 - hex.count) + hex
        request.parties = [party]
        request.threatOfViolence = true
        request.repeatIncident = true
        let started = ContinuousClock.now
        let incident = try await client.call(GridServiceMethods.reportIncident, request, options: call).incident
        sent.withLock { $0[incident.id] = started }
    }
    let villages = Set(reporters.map(\.village)).subtracting([""])
    if reporters.count > 1 {
        let townships = Set(villages.map { $0.prefix(9) })
        print("reports spread over \(reporters.count) grids in \(villages.count) villages of \(townships.count) townships, in turn")
    }
    if options.rate > 0 {
        let summary = await measureAtRate(rate: options.rate, seconds: max(options.seconds, 1), inFlight: options.concurrency, report)
        summary.print(label: "ReportIncident through the gateway, \(options.rate)/s open loop for \(max(options.seconds, 1)) s", concurrency: options.concurrency)
    } else {
        let summary = await measure(concurrency: options.concurrency, total: options.requests, report)
        summary.print(label: "ReportIncident through the gateway", concurrency: options.concurrency)
    }
    let reported = sent.withLock { $0 }
    let deadline = ContinuousClock.now + .seconds(180)
    while arrivals.count(of: reported.keys) < reported.count, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(50))
    }
    let arrived = arrivals.snapshot
    let latencies = reported.compactMap { id, start in arrived[id].map { $0 - start } }
    let delivery = Summary(latencies: latencies, elapsed: .seconds(1), errors: reported.count - latencies.count)
    // The same percentiles with every report whose webhook did not arrive counted as slower
    // than all that did: a p99 that hides nothing lost.
    let hidingNothing = Summary(latencies: latencies + Array(repeating: .seconds(1_000_000), count: reported.count - latencies.count), elapsed: .seconds(1), errors: 0)
    print(String(
        format: "report -> signed webhook: %d of %d delivered, p50 %.1f ms, p99 %.1f ms; other pushes received (about no incident of this run): %d",
        latencies.count, reported.count, delivery.percentile(0.5).ms, delivery.percentile(0.99).ms, arrivals.others
    ))
    if latencies.count < reported.count {
        print(String(format: "  with the %d undelivered counted as never arriving: p99 %@", reported.count - latencies.count,
                     hidingNothing.percentile(0.99) >= .seconds(1_000_000) ? "none (more than 1% undelivered)" : String(format: "%.1f ms", hidingNothing.percentile(0.99).ms)))
    }
    if !options.missing.isEmpty {
        let missing = reported.keys.filter { arrived[$0] == nil }.sorted()
        try (missing.map { $0 + "\n" }.joined()).write(toFile: options.missing, atomically: true, encoding: .utf8)
    }
    server.cancel()
}

/// `seed`: a grid and a grid worker in each village of a file (or the grid and member a
/// line names), and the receiver subscribed to each township's warnings.
func runSeed(_ options: Options) async throws {
    guard let token = options.token, !options.villages.isEmpty, !options.receiver.isEmpty, !options.secret.isEmpty, !options.out.isEmpty else {
        throw BenchError("seed needs --token, --villages, --receiver, --secret and --out")
    }
    let lines = try String(contentsOfFile: options.villages, encoding: .utf8).split(separator: "\n")
        .map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }.filter { !$0.isEmpty }
    let client = ConnectClient(baseURL: options.url, transport: CurlTransport())
    let call = CallOptions(timeout: .seconds(30), headers: [("Authorization", "Bearer \(token)")])
    let seeded = Mutex<[Int: Reporter]>([:])
    let made = await measure(concurrency: options.concurrency, total: lines.count) { index in
        let fields = lines[index]
        if fields.count >= 3 {
            seeded.withLock { $0[index] = Reporter(grid: fields[1], member: fields[2], village: fields[0]) }
            return
        }
        var grid = Pingan_Grid_V1_CreateGridRequest()
        grid.villageCode = fields[0]
        grid.name = "压测网格\(index + 1)"
        let gridID = try await client.call(GridServiceMethods.createGrid, grid, options: call).grid.id
        var member = Pingan_Grid_V1_AddGridMemberRequest()
        member.gridID = gridID
        member.name = "压测网格员\(index + 1)"
        member.role = .gridWorker
        let memberID = try await client.call(GridServiceMethods.addGridMember, member, options: call).member.id
        seeded.withLock { $0[index] = Reporter(grid: gridID, member: memberID, village: fields[0]) }
    }
    let reporters = seeded.withLock { $0 }
    let townships = Array(Set(reporters.values.map { String($0.village.prefix(9)) + "000" })).sorted()
    let subscribed = await measure(concurrency: options.concurrency, total: townships.count) { index in
        var request = Pingan_Notify_V1_SubscribeRequest()
        request.centreCode = townships[index]
        request.url = options.receiver
        request.secret = options.secret
        request.eventTypes = ["warning.raised"]
        _ = try await client.call(NotifyServiceMethods.subscribe, request, options: call)
    }
    let text = lines.indices.compactMap { reporters[$0] }.map { "\($0.grid) \($0.member) \($0.village)\n" }.joined()
    try text.write(toFile: options.out, atomically: true, encoding: .utf8)
    let kept = lines.filter { $0.count >= 3 }.count
    print("reporters: \(reporters.count) grids with a grid worker each (\(reporters.count - kept) created, \(kept) as the file named them, \(made.errors) refused) "
          + "in \(Set(reporters.values.map(\.village)).count) villages; \(townships.count) townships subscribed to warning.raised (\(subscribed.errors) refused)")
    guard made.errors == 0, subscribed.errors == 0 else { throw BenchError("seeding failed") }
}

func runLadder(_ options: Options) async throws {
    guard let token = options.token, !options.village.isEmpty else { throw BenchError("ladder needs --token and --village") }
    let client = ConnectClient(baseURL: options.url, transport: CurlTransport())
    let call = CallOptions(timeout: .seconds(30), headers: [("Authorization", "Bearer \(token)")])
    let cases = Mutex<[Int: String]>([:])
    let opened = await measure(concurrency: options.concurrency, total: options.requests) { index in
        var request = Pingan_Dispute_V1_IntakeCaseRequest()
        request.requestID = UUID().uuidString.lowercased()
        request.villageCode = options.village
        request.category = .neighbour
        request.source = .hotline
        request.description_p = "压测案件 \(index)"
        var first = Pingan_Grid_V1_Party()
        first.name = "甲" + String(UUID().uuidString.prefix(8))
        var second = Pingan_Grid_V1_Party()
        second.name = "乙" + String(UUID().uuidString.prefix(8))
        request.parties = [first, second]
        let id = try await client.call(DisputeServiceMethods.intakeCase, request, options: call).case.id
        cases.withLock { $0[index] = id }
    }
    opened.print(label: "IntakeCase through the gateway", concurrency: options.concurrency)
    let ids = cases.withLock { $0 }
    let advanced = await measure(concurrency: options.concurrency, total: options.requests) { index in
        guard let id = ids[index] else { throw BenchError("case \(index) was not opened") }
        var start = Pingan_Dispute_V1_StartRungRequest()
        start.caseID = id
        start.rung = .finder
        start.lead = "网格员"
        let attempt = try await client.call(DisputeServiceMethods.startRung, start, options: call).attempt
        var end = Pingan_Dispute_V1_EndRungRequest()
        end.caseID = id
        end.attemptID = attempt.id
        end.outcome = .failed
        end.note = "未能化解"
        _ = try await client.call(DisputeServiceMethods.endRung, end, options: call)
    }
    advanced.print(label: "a rung started and ended (StartRung + EndRung) through the gateway", concurrency: options.concurrency)
}

func runReports(_ options: Options) async throws {
    guard let token = options.token, !options.grid.isEmpty, !options.member.isEmpty, !options.parties.isEmpty,
          options.rate > 0, options.seconds > 0 else {
        throw BenchError("reports needs --token, --grid, --member, --parties, --rate and --seconds")
    }
    let client = ConnectClient(baseURL: options.url, transport: CurlTransport())
    let call = CallOptions(timeout: .seconds(30), headers: [("Authorization", "Bearer \(token)")])
    let summary = await measureAtRate(rate: options.rate, seconds: options.seconds, inFlight: 256) { index in
        var request = Pingan_Grid_V1_ReportIncidentRequest()
        request.gridID = options.grid
        request.reporterMemberID = options.member
        request.category = .neighbour
        request.description_p = "压测：同一双方第 \(index) 次被报告，扬言动手"
        request.parties = options.parties.map { name in
            var party = Pingan_Grid_V1_Party()
            party.name = name
            return party
        }
        request.threatOfViolence = true
        request.repeatIncident = true
        _ = try await client.call(GridServiceMethods.reportIncident, request, options: call)
    }
    summary.print(label: "ReportIncident naming \(options.parties.joined(separator: " and ")), \(options.rate)/s open loop for \(options.seconds) s",
                  concurrency: 256)
}
