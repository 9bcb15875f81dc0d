; Monthly momentum: the two strongest of stocks, tech, bonds and gold over three months, chosen
; on the first session of each month and held, drifting with prices, in between. Composer's
; rebalance settings: docs/strategy-language.md.
(defsymphony
 "Monthly momentum"
 {:asset-class "EQUITIES", :rebalance-frequency :monthly}
 (filter
  (cumulative-return {:window 60})
  (select-top 2)
  [(asset "SPY") (asset "QQQ") (asset "TLT") (asset "GLD") (asset "IEF")]))
