import CCurl
import Foundation
import Synchronization

/// One HTTP/1.1 exchange for ``CurlTransport``.
struct CurlRequest: Sendable {
    enum Method: Sendable {
        case get, post
        /// SMTP: `body` is the whole RFC 5322 message, sent from `from` to `recipients`.
        case mail(from: String, recipients: [String])
    }
    var method: Method = .post
    var url: String
    var headers: [(String, String)]
    var body: [UInt8]
    /// The whole exchange must finish within this; it becomes `CURLOPT_TIMEOUT_MS`.
    var timeout: Duration
    var connectTimeout: Duration
    /// `host:port:address[,address]` entries that pin where curl connects, so the address a
    /// policy checked is the one used (no second DNS answer in between).
    var resolve: [String] = []
    /// The most of a response body kept; more ends the transfer, with the answer so far.
    var maxResponseBytes = 16 << 20
}

struct CurlResponse: Sendable {
    var status: Int
    var contentType: String?
    var body: [UInt8]
    /// New TCP connections this exchange opened: 0 when it reused a kept-alive one.
    var connectionsOpened: Int
    /// True when the body was cut at ``CurlRequest/maxResponseBytes``.
    var truncated = false
}

/// How a transfer failed below HTTP.
enum CurlFailure: Error, Sendable {
    /// The peer refused, could not be resolved or dropped the connection.
    case unreachable(String)
    case timedOut(String)
    case canceled
    case other(String)
}

/// libcurl's multi interface driven from one dedicated thread.
///
/// Calls in flight hold no thread: each waits on a continuation that the loop resumes when its
/// transfer completes. The multi handle keeps a cache of open connections, so consecutive
/// calls to the same peer reuse one TCP connection (keep-alive) instead of a new handshake.
public final class CurlTransport: Sendable {
    private let loop: Loop
    private let openedConnections = Atomic<Int>(0)

    /// Starts the transport's thread. Share one transport between every client of a process.
    public init(maxCachedConnections: Int = 64) {
        CurlGlobal.initialize()
        loop = Loop(maxCachedConnections: maxCachedConnections)
        let loop = self.loop
        let thread = Thread { loop.run() }
        thread.name = "pingan-curl"
        thread.start()
    }

    /// Stops the thread; calls still in flight fail as canceled.
    deinit { loop.stop() }

    /// TCP connections opened so far; compare with the number of calls to see reuse.
    public var connectionsOpened: Int { openedConnections.load(ordering: .relaxed) }

    func perform(_ request: CurlRequest) async throws -> CurlResponse {
        let transfer = try Transfer(request)
        let response = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
        openedConnections.add(response.connectionsOpened, ordering: .relaxed)
        return response
    }
}

/// curl_global_init is not thread-safe and must run once before any other call.
private enum CurlGlobal {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    static func initialize() { _ = initialized }
}

/// One exchange in flight: its easy handle, the header list it points at, and the bytes
/// received so far. Owned by the loop's thread from submission to completion.
private final class Transfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var recipientList: UnsafeMutablePointer<curl_slist>?
    private var resolveList: UnsafeMutablePointer<curl_slist>?
    private let maxResponseBytes: Int
    private var truncated = false
    /// What an upload (SMTP) still has to send, and how far it got.
    private var upload: [UInt8] = []
    private var uploaded = 0
    var received: [UInt8] = []
    var continuation: CheckedContinuation<CurlResponse, any Error>?

    init(_ request: CurlRequest) throws {
        guard let easy = EasyHandles.shared.take() else { throw CurlFailure.other("curl_easy_init failed") }
        self.easy = easy
        maxResponseBytes = request.maxResponseBytes
        if !request.resolve.isEmpty {
            var pins: UnsafeMutablePointer<curl_slist>?
            for entry in request.resolve { pins = curl_slist_append(pins, entry) }
            resolveList = pins
            pingan_curl_setopt_pointer(easy, CURLOPT_RESOLVE, UnsafeMutableRawPointer(pins))
        }
        var list: UnsafeMutablePointer<curl_slist>?
        // "Expect:" stops curl waiting for a 100-continue round trip on larger bodies.
        for line in request.headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] {
            list = curl_slist_append(list, line)
        }
        headerList = list
        pingan_curl_setopt_string(easy, CURLOPT_URL, request.url)
        switch request.method {
        case let .mail(from, recipients):
            var rcpt: UnsafeMutablePointer<curl_slist>?
            for recipient in recipients { rcpt = curl_slist_append(rcpt, "<\(recipient)>") }
            recipientList = rcpt
            upload = request.body
            pingan_curl_setopt_string(easy, CURLOPT_MAIL_FROM, "<\(from)>")
            pingan_curl_setopt_pointer(easy, CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(rcpt))
            pingan_curl_setopt_long(easy, CURLOPT_UPLOAD, 1)
            pingan_curl_setopt_long(easy, CURLOPT_INFILESIZE, request.body.count)
            pingan_curl_setopt_read_function(easy) { buffer, size, count, context in
                guard let context, let buffer else { return 0 }
                let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
                let length = min(size * count, transfer.upload.count - transfer.uploaded)
                guard length > 0 else { return 0 }
                transfer.upload.withUnsafeBytes { bytes in
                    if let base = bytes.baseAddress {
                        UnsafeMutableRawPointer(buffer).copyMemory(from: base + transfer.uploaded, byteCount: length)
                    }
                }
                transfer.uploaded += length
                return length
            }
            pingan_curl_setopt_pointer(easy, CURLOPT_READDATA, Unmanaged.passUnretained(self).toOpaque())
        case .get:
            pingan_curl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case .post:
            pingan_curl_setopt_long(easy, CURLOPT_POST, 1)
            pingan_curl_setopt_long(easy, CURLOPT_POSTFIELDSIZE, request.body.count)
            // COPYPOSTFIELDS makes curl keep its own copy, so the Swift array may go away.
            request.body.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress, !bytes.isEmpty {
                    _ = pingan_curl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
                } else {
                    _ = pingan_curl_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, "")
                }
            }
        }
        pingan_curl_setopt_pointer(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))
        pingan_curl_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        pingan_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        pingan_curl_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        pingan_curl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        pingan_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, request.timeout.milliseconds))
        pingan_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, min(request.connectTimeout, request.timeout).milliseconds))
        pingan_curl_setopt_write_function(easy) { data, size, count, context in
            guard let context, let data else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let kept = min(length, transfer.maxResponseBytes - transfer.received.count)
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.received.append(contentsOf: UnsafeBufferPointer(start: $0, count: max(0, kept)))
            }
            guard kept == length else {
                // Returning less than was given ends the transfer: a huge answer costs no more.
                transfer.truncated = true
                return 0
            }
            return length
        }
        pingan_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        EasyHandles.shared.give(easy)
        curl_slist_free_all(headerList)
        curl_slist_free_all(recipientList)
        curl_slist_free_all(resolveList)
    }

    /// Reads the outcome of a finished transfer.
    func outcome(_ code: CURLcode) -> Result<CurlResponse, any Error> {
        guard code == CURLE_OK || (code == CURLE_WRITE_ERROR && truncated) else {
            let message = String(cString: curl_easy_strerror(code))
            switch code {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY,
                 CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING:
                return .failure(CurlFailure.unreachable(message))
            case CURLE_OPERATION_TIMEDOUT:
                return .failure(CurlFailure.timedOut(message))
            default:
                return .failure(CurlFailure.other(message))
            }
        }
        var status = 0
        pingan_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        pingan_curl_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        var contentType: UnsafeMutableRawPointer?
        pingan_curl_getinfo_pointer(easy, CURLINFO_CONTENT_TYPE, &contentType)
        let type = contentType.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) }
        return .success(CurlResponse(status: status, contentType: type, body: received, connectionsOpened: connects, truncated: truncated))
    }
}

/// Easy handles of finished transfers, reset and kept for the next ones: making and
/// freeing a handle for every call allocated and cleared several kilobytes each time.
private final class EasyHandles: Sendable {
    static let shared = EasyHandles()
    private static let capacity = 256
    /// Addresses of idle handles, which no transfer and no multi handle holds.
    private let idle = Mutex<[UInt]>([])

    func take() -> UnsafeMutableRawPointer? {
        if let address = idle.withLock({ $0.popLast() }), let easy = UnsafeMutableRawPointer(bitPattern: address) {
            return easy
        }
        return curl_easy_init()
    }

    /// Takes back a handle its transfer is done with (removed from the multi handle).
    func give(_ easy: UnsafeMutableRawPointer) {
        // Reset drops every option, header list and callback the transfer set; a kept
        // handle starts as a new one does.
        curl_easy_reset(easy)
        let kept = idle.withLock { idle -> Bool in
            guard idle.count < Self.capacity else { return false }
            idle.append(UInt(bitPattern: easy))
            return true
        }
        if !kept { curl_easy_cleanup(easy) }
    }
}

/// The thread that owns the multi handle. Other threads only queue work and wake it.
private final class Loop: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex<(add: [Transfer], cancel: [ObjectIdentifier], stopped: Bool)>(([], [], false))
    /// Touched only on the loop's thread.
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]

    init(maxCachedConnections: Int) {
        guard let multi = curl_multi_init() else { preconditionFailure("curl_multi_init failed") }
        self.multi = multi
        pingan_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxCachedConnections)
    }

    func submit(_ transfer: Transfer) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.stopped else { return false }
            inbox.add.append(transfer)
            return true
        }
        if accepted {
            curl_multi_wakeup(multi)
        } else {
            transfer.continuation?.resume(throwing: CurlFailure.canceled)
            transfer.continuation = nil
        }
    }

    func cancel(_ transfer: Transfer) {
        inbox.withLock { $0.cancel.append(ObjectIdentifier(transfer)) }
        curl_multi_wakeup(multi)
    }

    func stop() {
        inbox.withLock { $0.stopped = true }
        curl_multi_wakeup(multi)
    }

    func run() {
        var running: Int32 = 0
        while true {
            let (added, canceled, stopped) = inbox.withLock { inbox in
                defer { inbox.add.removeAll(); inbox.cancel.removeAll() }
                return (inbox.add, inbox.cancel, inbox.stopped)
            }
            for transfer in added {
                active[transfer.easy] = transfer
                curl_multi_add_handle(multi, transfer.easy)
            }
            for id in canceled {
                if let transfer = active.values.first(where: { ObjectIdentifier($0) == id }) {
                    finish(transfer, .failure(CurlFailure.canceled))
                }
            }
            if stopped {
                for transfer in Array(active.values) { finish(transfer, .failure(CurlFailure.canceled)) }
                curl_multi_cleanup(multi)
                return
            }
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let transfer = active[easy] else { continue }
                let code = message.pointee.data.result
                finish(transfer, transfer.outcome(code))
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func finish(_ transfer: Transfer, _ result: Result<CurlResponse, any Error>) {
        curl_multi_remove_handle(multi, transfer.easy)
        active[transfer.easy] = nil
        transfer.continuation?.resume(with: result)
        transfer.continuation = nil
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so a tiny positive duration is not zero.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}
