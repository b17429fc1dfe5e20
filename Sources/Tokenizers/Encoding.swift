/// The tokenisation of one input (or pair), ready for a BERT model.
public struct Encoding: Sendable, Equatable {
    /// Token ids, special tokens included.
    public var ids: [Int]
    /// Segment of each token: 0 for the first sequence, 1 for the second of a pair.
    public var typeIDs: [Int]
    /// 1 for real tokens, 0 for padding.
    public var attentionMask: [Int]
    /// True for tokens added by the post-processor or padding.
    public var specialTokensMask: [Bool]

    public init(ids: [Int], typeIDs: [Int], attentionMask: [Int], specialTokensMask: [Bool]) {
        self.ids = ids
        self.typeIDs = typeIDs
        self.attentionMask = attentionMask
        self.specialTokensMask = specialTokensMask
    }

    /// Number of tokens, padding included.
    public var count: Int { ids.count }

    /// Pads to `length` tokens (nothing happens when already that long or longer).
    public mutating func pad(to length: Int, padID: Int, padTypeID: Int = 0, left: Bool = false) {
        let n = length - ids.count
        guard n > 0 else { return }
        if left {
            ids.insert(contentsOf: repeatElement(padID, count: n), at: 0)
            typeIDs.insert(contentsOf: repeatElement(padTypeID, count: n), at: 0)
            attentionMask.insert(contentsOf: repeatElement(0, count: n), at: 0)
            specialTokensMask.insert(contentsOf: repeatElement(true, count: n), at: 0)
        } else {
            ids.append(contentsOf: repeatElement(padID, count: n))
            typeIDs.append(contentsOf: repeatElement(padTypeID, count: n))
            attentionMask.append(contentsOf: repeatElement(0, count: n))
            specialTokensMask.append(contentsOf: repeatElement(true, count: n))
        }
    }
}

/// How long inputs are cut, as `truncation` in `tokenizer.json`.
public struct Truncation: Sendable, Equatable {
    public enum Strategy: String, Sendable { case longestFirst = "LongestFirst", onlyFirst = "OnlyFirst", onlySecond = "OnlySecond" }
    /// The most tokens an encoding may have, special tokens included.
    public var maxLength: Int
    public var strategy: Strategy
    /// Cut from the end (the default) or from the start.
    public var fromLeft: Bool

    public init(maxLength: Int, strategy: Strategy = .longestFirst, fromLeft: Bool = false) {
        self.maxLength = maxLength
        self.strategy = strategy
        self.fromLeft = fromLeft
    }
}

/// How a batch is padded, as `padding` in `tokenizer.json`.
public struct Padding: Sendable, Equatable {
    /// Pad to the longest encoding of the batch (nil) or to a fixed length.
    public var fixedLength: Int?
    public var padID: Int
    public var padTypeID: Int
    public var padToMultipleOf: Int?
    public var left: Bool

    public init(fixedLength: Int? = nil, padID: Int = 0, padTypeID: Int = 0, padToMultipleOf: Int? = nil, left: Bool = false) {
        self.fixedLength = fixedLength
        self.padID = padID
        self.padTypeID = padTypeID
        self.padToMultipleOf = padToMultipleOf
        self.left = left
    }
}
