import Foundation
import PinganConnect
import PinganContracts
import PinganDomain

// The one place index's domain values turn into the generated protobuf messages the
// handler answers with; stores and rules never see those messages.

extension MonthVersion {
    var wire: Pingan_Index_V1_MonthVersion {
        var wire = Pingan_Index_V1_MonthVersion()
        wire.month = month.description
        wire.version = Int32(version)
        wire.status = status == .frozen ? .frozen : .provisional
        wire.catalogueVersion = catalogueVersion
        wire.computedAt = computedAt.wireTimestamp
        wire.computedBy = computedBy
        wire.reason = reason
        return wire
    }
}

extension IndicatorValue {
    var wire: Pingan_Index_V1_IndicatorValue {
        var wire = Pingan_Index_V1_IndicatorValue()
        wire.indicator = indicator
        wire.name = name
        wire.category = category
        wire.weight = weight
        wire.enoughData = enoughData
        wire.value = value
        wire.normalised = normalised
        wire.points = points
        return wire
    }
}

extension RankedScore {
    var wire: Pingan_Index_V1_DivisionScore {
        var wire = Pingan_Index_V1_DivisionScore()
        wire.code = code
        wire.name = name
        wire.score = score
        wire.rank = Int32(rank)
        wire.indicators = indicators.map(\.wire)
        wire.enoughData = enoughData
        wire.rankLow = Int32(rankLow)
        wire.rankHigh = Int32(rankHigh)
        if let change {
            wire.change = change
            wire.changeKnown = true
        }
        return wire
    }
}

extension ThresholdRule.Kind {
    var wire: Pingan_Index_V1_ActionKind {
        switch self {
        case .shareExperience: .shareExperience
        case .reminderTalk: .reminderTalk
        case .summons: .summons
        }
    }
}

extension IndexAction.Status {
    var wire: Pingan_Index_V1_ActionStatus {
        switch self {
        case .open: .open
        case .done: .done
        case .withdrawn: .withdrawn
        }
    }
}

extension IndexAction {
    var wire: Pingan_Index_V1_IndexAction {
        var wire = Pingan_Index_V1_IndexAction()
        wire.id = id.wire
        wire.month = month.description
        wire.divisionCode = division
        wire.divisionName = divisionName
        wire.centreCode = centre.rawValue
        wire.kind = kind.wire
        wire.owner = owner
        wire.dueOn = dueOn.description
        wire.status = status.wire
        wire.score = score
        wire.outcome = outcome ?? ""
        wire.doneBy = doneBy ?? ""
        wire.doneAt = doneAt?.wireTimestamp ?? ""
        return wire
    }
}

extension ThresholdRule {
    func wire(centre: DivisionCode, isDefault: Bool) -> Pingan_Index_V1_ThresholdRule {
        var wire = Pingan_Index_V1_ThresholdRule()
        wire.centreCode = centre.rawValue
        wire.shareAt = shareAt
        wire.remindBelow = remindBelow
        wire.summonBelow = summonBelow
        wire.shareDays = Int32(shareDays)
        wire.remindDays = Int32(remindDays)
        wire.summonDays = Int32(summonDays)
        wire.shareOwner = shareOwner
        wire.remindOwner = remindOwner
        wire.summonOwner = summonOwner
        wire.isDefault = isDefault
        return wire
    }
}

extension AnnualGrading.Grade {
    var wire: Pingan_Index_V1_AnnualGrade {
        var wire = Pingan_Index_V1_AnnualGrade()
        wire.code = code
        wire.name = name
        wire.meanScore = meanScore
        wire.monthsScored = Int32(monthsScored)
        wire.grade = grade
        return wire
    }
}
