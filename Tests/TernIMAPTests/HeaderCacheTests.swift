import Testing

@testable import TernIMAP

@Suite struct HeaderCacheTests {
    @Test func keepsHeadersWithinTheBudgetDroppingTheOldest() {
        let cache = HeaderCache(byteBudget: 1600)
        for n in 0..<10 { cache.store([UInt8](repeating: UInt8(n), count: 100), for: "g/\(n)") }
        #expect(cache.header("g/0")?.count == 100)
        for n in 10..<20 { cache.store([UInt8](repeating: UInt8(n), count: 100), for: "g/\(n)") }
        #expect(cache.header("g/0") == nil)
        #expect(cache.header("g/3") == nil)
        #expect(cache.header("g/4")?.first == 4)
        #expect(cache.header("g/19")?.first == 19)
    }

    @Test func refusesHeadersLargerThanASixteenthOfTheBudget() {
        let cache = HeaderCache(byteBudget: 1600)
        cache.store([UInt8](repeating: 1, count: 101), for: "big")
        #expect(cache.header("big") == nil)
    }
}
