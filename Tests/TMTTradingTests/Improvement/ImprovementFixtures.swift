import Foundation
import TMTModels
@testable import TMTTrading

/// Builds a closed trade whose only interesting figures are its net P&L and order.
func closedTrade(_ id: String, exit: Int64, pnl: Decimal, commission: Decimal = 0,
                 account: String = "acc-1", instrument: String = "EURUSD",
                 pattern: String = "spring", side: Side = .buy) -> ClosedTrade {
    ClosedTrade(id: id, account: account, instrument: instrument, pattern: pattern, side: side,
                entryTime: exit - 60_000, entryPrice: Decimal(string: "1.1000")!, exitTime: exit,
                exitPrice: Decimal(string: "1.1010")!, quantity: 10_000, pnl: pnl, commission: commission)
}

/// Trades whose net P&Ls are `values`, in that exit order.
func closedTrades(_ values: [Double], prefix: String) -> [ClosedTrade] {
    values.enumerated().map { index, value in
        closedTrade("\(prefix)-\(index)", exit: Int64(index + 1) * 60_000, pnl: Decimal(value))
    }
}
