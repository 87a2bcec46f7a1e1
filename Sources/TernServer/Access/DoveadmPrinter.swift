/// doveadm's output formatters (`-f flow|tab|table|pager`), byte for byte as Dovecot 2.3's
/// doveadm-print-*.c write them. A command declares its columns, then prints values row by row; multi-line
/// values (message headers and bodies) go through `stream`, which only flow, tab and pager can show.
public final class DoveadmPrinter {
    public enum Formatter: String, Sendable, CaseIterable {
        case flow, tab, table, pager
    }

    public struct Column: Sendable {
        public var title: String
        /// flow leaves out `title=` (search's guid and uid, mailbox list's name).
        public var hideTitle: Bool
        /// table gives this column the spare width (Dovecot's DOVEADM_PRINT_HEADER_FLAG_EXPAND).
        public var expand: Bool
        /// table pads this column's values on the left (DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY).
        public var rightJustify: Bool

        public init(_ title: String, hideTitle: Bool = false, expand: Bool = false, rightJustify: Bool = false) {
            self.title = title
            self.hideTitle = hideTitle
            self.expand = expand
            self.rightJustify = rightJustify
        }
    }

    public let formatter: Formatter
    private let write: ([UInt8]) -> Void
    /// Terminal width table fits to (80 when stdout is no terminal, as Dovecot).
    private let width: Int
    private var columns: [Column] = []
    private var index = 0
    private var pagerFirstPage = true
    private var tabHeaderWritten = false
    /// table's first rows, kept to size the columns (Dovecot's MAX_BUFFER_LINES).
    private var tableRows: [String] = []
    private var tableWidths: [Int]?
    private static let tableBufferedLines = 100

    public init(_ formatter: Formatter, width: Int = 80, write: @escaping ([UInt8]) -> Void) {
        self.formatter = formatter
        self.width = width
        self.write = write
    }

    /// Declares the columns; tab writes its title line as Dovecot does, right away.
    public func header(_ columns: [Column]) {
        self.columns = columns
        if formatter == .tab { emit(columns.map(\.title).joined(separator: "\t")) }
    }

    /// One single-line value, in column order.
    public func print(_ value: String) {
        guard !columns.isEmpty else { return }
        switch formatter {
        case .flow: emit((columns[index].hideTitle ? "" : columns[index].title + "=") + value)
        case .tab:
            writeTabHeaderEnd()
            emit((index > 0 ? "\t" : "") + value)
        case .table:
            printTable(value)
            return
        case .pager:
            if index == 0 && !pagerFirstPage { emit("\u{0C}\n") }
            pagerFirstPage = false
            emit("\(columns[index].title): \(value)\n")
        }
        nextColumn()
    }

    /// A multi-line value written as it is (Dovecot streams message parts this way).
    public func stream(_ value: [UInt8]) {
        guard !columns.isEmpty else { return }
        switch formatter {
        case .flow:
            emit(columns[index].hideTitle ? "" : columns[index].title + "=")
            write(value)
            nextColumn()
        case .tab:
            // Dovecot's tab formatter separates the chunk and then the end-of-value marker again.
            if !value.isEmpty {
                writeTabHeaderEnd()
                if index > 0 { emit("\t") }
                write(value)
            }
            print("")
        case .table:
            print(String(decoding: value, as: UTF8.self))
        case .pager:
            emit("\(columns[index].title):\n")
            write(value)
            index = (index + 1) % columns.count
        }
    }

    /// Ends the output: a pending line end, or table's buffered rows.
    public func flush() {
        switch formatter {
        case .flow, .pager:
            if index != 0 { emit("\n") }
            index = 0
        case .tab: if !columns.isEmpty { writeTabHeaderEnd() }
        case .table: if tableWidths == nil && !columns.isEmpty { flushTable() }
        }
    }

    private func nextColumn() {
        index += 1
        if index == columns.count {
            index = 0
            if formatter != .pager { emit("\n") }
        } else if formatter == .flow {
            emit(" ")
        }
    }

    private func writeTabHeaderEnd() {
        guard !tabHeaderWritten else { return }
        tabHeaderWritten = true
        emit("\n")
    }

    private func emit(_ text: String) { write(Array(text.utf8)) }

    // MARK: table

    private func printTable(_ value: String) {
        if tableWidths == nil {
            if tableRows.count / columns.count < Self.tableBufferedLines {
                tableRows.append(value)
                return
            }
            flushTable()
        }
        writeTableCell(value)
    }

    private func flushTable() {
        let widths = Self.tableWidths(columns, rows: tableRows, width: width)
        tableWidths = widths
        if !columns.allSatisfy(\.hideTitle) {
            let titles = zip(columns, widths).map { Self.padded($0.title, $1, right: $0.rightJustify) }
            emit(titles.joined(separator: " ") + "\n")
        }
        for value in tableRows { writeTableCell(value) }
        tableRows = []
    }

    private func writeTableCell(_ value: String) {
        emit(Self.padded(value, tableWidths?[index] ?? 0, right: columns[index].rightJustify))
        index += 1
        if index == columns.count {
            index = 0
            emit("\n")
        } else {
            emit(" ")
        }
    }

    static func padded(_ value: String, _ width: Int, right: Bool = false) -> String {
        let count = value.unicodeScalars.count
        guard count < width else { return value }
        let padding = String(repeating: " ", count: width - count)
        return right ? padding + value : value + padding
    }

    /// Dovecot's doveadm_calc_header_length: each column as wide as its widest value, shrunk from the right
    /// when the line is too long, and the spare width (half of it) given to the expanding column, else the last.
    static func tableWidths(_ columns: [Column], rows: [String], width: Int) -> [Int] {
        var minimum = columns.map { $0.title.unicodeScalars.count }
        var lengths = minimum
        for (position, value) in rows.enumerated() {
            let column = position % columns.count
            let count = value.unicodeScalars.count
            minimum[column] = min(minimum[column], count)
            lengths[column] = max(lengths[column], count)
        }
        var total = lengths.reduce(0) { $0 + $1 + 1 } - 1
        while total > width {
            let before = total
            for column in lengths.indices.reversed() {
                let spare = lengths[column] - minimum[column]
                if total - spare <= width {
                    lengths[column] -= total - width
                    total = width
                    break
                }
                if spare > 0 { lengths[column] -= spare == 1 ? 1 : spare / 2 }
            }
            if total == before { break }
        }
        if total < width, let last = lengths.indices.last {
            let column = columns.firstIndex(where: \.expand) ?? last
            lengths[column] += (width - total) / 2
        }
        return lengths
    }
}
