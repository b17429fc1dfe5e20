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
    /// Where each token is in its input, in Unicode scalars (`text.unicodeScalars` positions; the
    /// second input's for tokens of a pair's second part); `0..<0` for special tokens and padding.
    public var offsets: [Range<Int>]

    /// Creates an encoding from parallel arrays, one entry per token (all of the same length).
    /// - Parameters:
    ///   - ids: Token ids.
    ///   - typeIDs: Segment of each token (0 or 1).
    ///   - attentionMask: 1 for real tokens, 0 for padding.
    ///   - specialTokensMask: True for special and padding tokens.
    ///   - offsets: Where each token is in its input, or nil for `0..<0` everywhere (default nil).
    public init(ids: [Int], typeIDs: [Int], attentionMask: [Int], specialTokensMask: [Bool], offsets: [Range<Int>]? = nil) {
        self.ids = ids
        self.typeIDs = typeIDs
        self.attentionMask = attentionMask
        self.specialTokensMask = specialTokensMask
        self.offsets = offsets ?? [Range<Int>](repeating: 0..<0, count: ids.count)
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
            offsets.insert(contentsOf: repeatElement(0..<0, count: n), at: 0)
        } else {
            ids.append(contentsOf: repeatElement(padID, count: n))
            typeIDs.append(contentsOf: repeatElement(padTypeID, count: n))
            attentionMask.append(contentsOf: repeatElement(0, count: n))
            specialTokensMask.append(contentsOf: repeatElement(true, count: n))
            offsets.append(contentsOf: repeatElement(0..<0, count: n))
        }
    }
}

/// A token id with its offsets in the input (before the post-processor).
struct TokenSpan: Sendable, Equatable {
    var id: Int
    var offsets: Range<Int>
    /// For an added token found in the text: the text it covers (with the whitespace `lstrip` /
    /// `rstrip` swallowed), which offset trimming looks at instead of the token's content.
    var surface: String? = nil
}

/// How long inputs are cut, as `truncation` in `tokenizer.json`.
public struct Truncation: Sendable, Equatable {
    /// Which input loses tokens when a pair is too long: the longer one first (keeping the shorter whole
    /// when it fits in half the budget), only the first, or only the second.
    public enum Strategy: String, Sendable { case longestFirst = "LongestFirst", onlyFirst = "OnlyFirst", onlySecond = "OnlySecond" }
    /// The most tokens an encoding may have, special tokens included.
    public var maxLength: Int
    /// Which input of a pair is cut.
    public var strategy: Strategy
    /// Cut from the end (the default) or from the start.
    public var fromLeft: Bool

    /// Creates a truncation setting.
    /// - Parameters:
    ///   - maxLength: The most tokens an encoding may have, special tokens included.
    ///   - strategy: Which input of a pair is cut (default longest first).
    ///   - fromLeft: Cut from the start instead of the end (default false).
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
    /// The id of the padding token (`[PAD]`, 0 in BERT vocabularies).
    public var padID: Int
    /// The token type given to padding.
    public var padTypeID: Int
    /// Round the padded length up to a multiple of this (nil or ≤ 0: no rounding).
    public var padToMultipleOf: Int?
    /// Pad at the start (true) instead of the end.
    public var left: Bool

    /// Creates a padding setting.
    /// - Parameters:
    ///   - fixedLength: Pad every encoding to this length, or nil for the batch's longest (default nil).
    ///   - padID: Id of the padding token (default 0).
    ///   - padTypeID: Token type of padding (default 0).
    ///   - padToMultipleOf: Round the length up to a multiple of this, or nil (default nil).
    ///   - left: Pad at the start instead of the end (default false).
    public init(fixedLength: Int? = nil, padID: Int = 0, padTypeID: Int = 0, padToMultipleOf: Int? = nil, left: Bool = false) {
        self.fixedLength = fixedLength
        self.padID = padID
        self.padTypeID = padTypeID
        self.padToMultipleOf = padToMultipleOf
        self.left = left
    }
}
