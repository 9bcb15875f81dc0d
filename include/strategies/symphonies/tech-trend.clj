; Tech trend with a hedge: ride leveraged tech while SPY is above its 200-day average,
; step aside when TQQQ is overbought, and hold the least volatile defensives otherwise.
; Only symbols the local paper exchange serves, so `make run` exercises every branch type.
(defsymphony
 "Tech trend with a hedge"
 {:asset-class "EQUITIES", :rebalance-frequency :daily}
 (weight-equal
  [(if
    (> (current-price "SPY") (moving-average-price "SPY" {:window 200}))
    [(if
      (> (rsi "TQQQ" {:window 10}) 79)
      [(asset "BIL" "SPDR Bloomberg 1-3 Month T-Bill ETF")]
      [(weight-equal
        [(filter
          (moving-average-return {:window 21})
          (select-top 2)
          [(asset "TECL") (asset "SOXL") (asset "TQQQ") (asset "XLK")])
         (group
          "Rates hedge"
          [(weight-specified 0.6 (asset "TLT") 0.4 (asset "GLD"))])])])]
    [(if
      (< (rsi "QQQ" {:window 10}) 30)
      [(asset "TECL" "Direxion Daily Technology Bull 3x Shares")]
      [(weight-inverse-volatility
        14
        [(asset "BIL") (asset "IEF") (asset "GLD")])])])]))
