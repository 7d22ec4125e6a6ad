/// One indicator of a unit's month as scored: what was measured, how it normalised and the
/// points it earned, so a score can always be explained indicator by indicator. Stored with
/// the scores, and shown in rankings and the monthly review.
struct IndicatorValue: Sendable, Equatable {
    /// The catalogue's id, e.g. `screening_coverage`.
    var indicator: String
    /// The indicator's name in Chinese, its category and its weight in the catalogue.
    var name: String
    var category: String
    var weight: Double
    /// False when the unit had too little activity to measure it: it then counts neither
    /// for nor against the unit, and never as full marks.
    var enoughData: Bool
    /// The raw ratio before normalisation, to four places.
    var value: Double
    /// The normalised value in [0, 1] the points came from; 0 when not measured.
    var normalised: Double = 0
    /// Points earned toward the score; 0 when there is not enough data.
    var points: Double = 0
}
