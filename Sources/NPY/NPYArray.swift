import Core

/// A 1-D or 2-D array as stored in a NumPy `.npy` file: a shape and typed, C-ordered data.
///
/// ```swift
/// let embeddings = NPYArray(float32: values, rows: 1000, cols: 384)
/// try NPY.write(embeddings, to: url)
/// let back = try NPY.read(url)
/// let (rows, cols, floats) = try back.float32Matrix()
/// ```
public struct NPYArray: Sendable, Equatable {
    /// The element storage; its case is the file's dtype.
    public enum Storage: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
        case int64([Int64])
        case int32([Int32])

        /// Number of elements stored.
        public var count: Int {
            switch self {
            case .float32(let v): v.count
            case .float64(let v): v.count
            case .int64(let v): v.count
            case .int32(let v): v.count
            }
        }
    }

    /// Dimensions, outermost first: `[n]` or `[rows, cols]`.
    public let shape: [Int]
    /// Elements in C (row-major) order.
    public let storage: Storage

    /// Creates an array, checking that the shape is 1-D or 2-D and matches the element count.
    /// - Parameters:
    ///   - shape: `[n]` or `[rows, cols]`, non-negative dimensions.
    ///   - storage: The elements in row-major order; their count must equal the product of `shape`.
    public init(shape: [Int], storage: Storage) throws(NPYError) {
        guard shape.count == 1 || shape.count == 2 else {
            throw NPYError(.unsupportedShape(shape), file: nil)
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw NPYError(.unsupportedShape(shape), file: nil) }
        let (product, overflow) = shape.count == 1
            ? (shape[0], false) : shape[0].multipliedReportingOverflow(by: shape[1])
        guard !overflow, product == storage.count else {
            throw NPYError(.elementCountMismatch(shape: shape, count: storage.count), file: nil)
        }
        self.shape = shape
        self.storage = storage
    }

    /// A `rows × cols` float32 matrix. `values.count` must equal `rows * cols`.
    /// - Parameters:
    ///   - values: The elements, row-major.
    ///   - rows: Number of rows (non-negative).
    ///   - cols: Number of columns (non-negative).
    public init(float32 values: [Float], rows: Int, cols: Int) {
        ensure(rows >= 0 && cols >= 0 && rows * cols == values.count, "NPYArray: \(values.count) values for \(rows)×\(cols)")
        self.shape = [rows, cols]
        self.storage = .float32(values)
    }

    /// A 1-D float32 vector.
    /// - Parameters:
    ///   - values: The elements; the shape is `[values.count]`.
    public init(float32 values: [Float]) {
        self.shape = [values.count]
        self.storage = .float32(values)
    }

    /// A 1-D float64 vector.
    /// - Parameters:
    ///   - values: The elements; the shape is `[values.count]`.
    public init(float64 values: [Double]) {
        self.shape = [values.count]
        self.storage = .float64(values)
    }

    /// A `rows × cols` int64 matrix (for example search results: `k` row numbers per query).
    /// - Parameters:
    ///   - values: The elements, row-major.
    ///   - rows: Number of rows (non-negative).
    ///   - cols: Number of columns (non-negative).
    public init(int64 values: [Int64], rows: Int, cols: Int) {
        ensure(rows >= 0 && cols >= 0 && rows * cols == values.count, "NPYArray: \(values.count) values for \(rows)×\(cols)")
        self.shape = [rows, cols]
        self.storage = .int64(values)
    }

    /// A 1-D int64 vector (for example ids).
    /// - Parameters:
    ///   - values: The elements; the shape is `[values.count]`.
    public init(int64 values: [Int64]) {
        self.shape = [values.count]
        self.storage = .int64(values)
    }

    /// The NumPy dtype string written in the header, always little-endian.
    public var dtype: String {
        switch storage {
        case .float32: "<f4"
        case .float64: "<f8"
        case .int64: "<i8"
        case .int32: "<i4"
        }
    }

    /// Rows of a 2-D array, or the length of a 1-D array.
    public var rows: Int { shape[0] }
    /// Columns of a 2-D array, or 1 for a 1-D array (a vector read as one column).
    public var cols: Int { shape.count == 2 ? shape[1] : 1 }

    /// The data as a `rows × cols` float32 matrix; a 1-D array reads as one column.
    ///
    /// float64 data is narrowed to float32 (embeddings saved by NumPy default to float64);
    /// integer data is refused because it is almost certainly not what the caller meant.
    public func float32Matrix() throws(NPYError) -> (rows: Int, cols: Int, values: [Float]) {
        switch storage {
        case .float32(let v): return (rows, cols, v)
        case .float64(let v): return (rows, cols, v.map { Float($0) })
        case .int64, .int32: throw NPYError(.wrongDType(expected: "float32 or float64", found: dtype), file: nil)
        }
    }

    /// The data as int64 values in C order; int32 data widens losslessly, float data is refused.
    public func int64Values() throws(NPYError) -> [Int64] {
        switch storage {
        case .int64(let v): return v
        case .int32(let v): return v.map { Int64($0) }
        case .float32, .float64: throw NPYError(.wrongDType(expected: "int64 or int32", found: dtype), file: nil)
        }
    }
}
