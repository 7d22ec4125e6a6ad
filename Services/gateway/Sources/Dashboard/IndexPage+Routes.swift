import Foundation
import Hummingbird
import PinganConnect
import PinganContracts
import PinganDomain

extension IndexPage {
    /// `/ui/index`, a centre's governance index for a month (`?centre=`, `?month=YYYY-MM`), and
    /// `/ui/index/review`, the month's review as the index service writes it (`?format=csv`).
    static func routes(_ index: RouterGroup<PageContext>, now: @escaping @Sendable () -> Date) {
        index.get { request, context in
            let visitor = try context.requireVisitor()
            let query = request.uri.queryParameters
            let centre = try visitor.session.centre(query["centre"].map(String.init))
            let month = try query["month"].map { text in
                guard let month = Month(parsing: String(text)) else { throw ConnectError.invalidArgument(field: "month", "must be YYYY-MM") }
                return month
            }
            let page = try await load(centre: centre, month: month, now: now(), client: visitor.client)
            return Dashboard.page("治理指数", page.render(), visitor.session)
        }
        index.get("review") { request, context in
            let visitor = try context.requireVisitor()
            let query = request.uri.queryParameters
            let review = try await visitor.client.call(IndexServiceMethods.getMonthlyReview, .with {
                $0.centreCode = query["centre"].map(String.init) ?? visitor.session.principal.centre.rawValue
                $0.month = query["month"].map(String.init) ?? Month(containing: now()).description
                $0.format = query["format"] == "csv" ? .csv : .html
            })
            return Response(status: .ok, headers: [.contentType: review.contentType], body: .init(byteBuffer: ByteBuffer(bytes: review.body)))
        }
    }
}
