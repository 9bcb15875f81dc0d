; Half Berkshire Hathaway class B, written the Composer way (BRK/B; Alpaca's BRK.B), half SPY
; while BRK/B is strong, TLT otherwise. An example of a share-class ticker in a symphony.
(defsymphony
 "Berkshire core"
 {:asset-class "EQUITIES", :rebalance-frequency :daily}
 (weight-equal
  [(asset "BRK/B" "Berkshire Hathaway Inc. Class B")
   (if
    (> (rsi "BRK/B" {:window 10}) 50)
    [(asset "SPY")]
    [(asset "TLT")])]))
