import Dispatch
import FoundationEssentials
import Glibc

/// A node of the strict YAML subset that TMT configuration files use: block mappings, block
/// sequences, plain/single-quoted/double-quoted scalars and comments. Every node remembers the
/// line it came from, so configuration errors can name file, line and key.
public indirect enum YAMLNode: Sendable, Equatable {
    case scalar(String?, line: Int)
    case mapping([YAMLEntry], line: Int)
    case sequence([YAMLNode], line: Int)

    public var line: Int {
        switch self {
        case .scalar(_, let l), .mapping(_, let l), .sequence(_, let l): l
        }
    }

    /// The value under `key` when this is a mapping.
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let entries, _) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// Scalar text; `nil` for `~`, `null`, an empty value, or a collection.
    public var string: String? {
        if case .scalar(let s, _) = self { return s }
        return nil
    }

    public var entries: [YAMLEntry] {
        if case .mapping(let e, _) = self { return e }
        return []
    }

    public var items: [YAMLNode] {
        if case .sequence(let s, _) = self { return s }
        return []
    }
}

/// One `key: value` of a mapping.
public struct YAMLEntry: Sendable, Equatable {
    public var key: String
    public var line: Int
    public var value: YAMLNode
}

/// An error in a YAML file: `file:line: key 'a.b': message`.
public struct YAMLError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var key: String
    public var message: String

    public var description: String {
        key.isEmpty ? "\(file):\(line): \(message)" : "\(file):\(line): key '\(key)': \(message)"
    }
}

/// Parses the YAML subset. Anything outside it (flow collections, anchors, aliases, tags,
/// block scalars, multiple documents, tabs in indentation, duplicate keys) is an error that
/// names the file, the line and the key, never silently misread.
public struct YAMLReader {
    private struct Line { var number: Int; var indent: Int; var text: String }

    private let file: String
    private var lines: [Line] = []
    private var index = 0

    /// Parses `text`; `file` is used in error messages.
    public static func parse(_ text: String, file: String = "<string>") throws(YAMLError) -> YAMLNode {
        var reader = YAMLReader(file: file)
        try reader.split(text)
        guard !reader.lines.isEmpty else { return .mapping([], line: 1) }
        let first = reader.lines[0]
        if first.indent != 0 {
            throw YAMLError(file: file, line: first.number, key: "", message: "the document must start at column 1")
        }
        let root = try reader.parseBlock(indent: 0, path: "")
        if reader.index < reader.lines.count {
            let l = reader.lines[reader.index]
            throw YAMLError(file: file, line: l.number, key: "", message: "unexpected indentation or content after the document")
        }
        return root
    }

    /// Reads and parses a file.
    public static func load(path: String) throws -> YAMLNode {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TMTError(.configuration, "cannot read configuration file \(path)")
        }
        return try parse(text, file: path)
    }

    private init(file: String) { self.file = file }

    private func fail(_ line: Int, _ key: String, _ message: String) -> YAMLError {
        YAMLError(file: file, line: line, key: key, message: message)
    }

    private mutating func split(_ text: String) throws(YAMLError) {
        var number = 0
        var sawDocumentStart = false
        var sawContent = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var s = Substring(raw)
            if s.hasSuffix("\r") { s = s.dropLast() }
            var indent = 0
            for ch in s {
                if ch == " " { indent += 1 } else if ch == "\t" {
                    let rest = s.drop(while: { $0 == " " || $0 == "\t" })
                    if rest.isEmpty || rest.first == "#" { break }
                    throw fail(number, "", "tab in indentation; indent with spaces")
                } else { break }
            }
            let body = stripComment(String(s.dropFirst(indent)))
            let trimmed = body.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            if trimmed == "---" && indent == 0 {
                if sawDocumentStart || sawContent { throw fail(number, "", "multiple documents are not supported") }
                sawDocumentStart = true
                continue
            }
            if trimmed == "..." && indent == 0 { throw fail(number, "", "document end markers are not supported") }
            if indent == 0 && trimmed.hasPrefix("%") { throw fail(number, "", "directives are not supported") }
            sawContent = true
            lines.append(Line(number: number, indent: indent, text: trimmed))
        }
    }

    /// Removes a `#` comment that starts a line or follows whitespace, outside quotes.
    private func stripComment(_ s: String) -> String {
        var inSingle = false, inDouble = false, prevSpace = true, escaped = false
        var idx = s.startIndex
        while idx < s.endIndex {
            let ch = s[idx]
            if inDouble {
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inDouble = false }
            } else if inSingle {
                if ch == "'" { inSingle = false }
            } else if ch == "#" && prevSpace {
                return String(s[..<idx])
            } else if ch == "\"" && prevSpace {
                inDouble = true
            } else if ch == "'" && prevSpace {
                inSingle = true
            }
            prevSpace = ch == " " || ch == "\t"
            idx = s.index(after: idx)
        }
        return s
    }

    private func isSequenceItem(_ text: String) -> Bool { text == "-" || text.hasPrefix("- ") }

    /// True while parsing a sequence written at its key's own column (`key:` then `- a` at the
    /// same indent), where a following sibling key legitimately ends the sequence.
    private var compactSequenceIndents: [Int] = []

    private func sequenceSharesKeyColumn(indent: Int, path: String) -> Bool {
        compactSequenceIndents.last == indent
    }

    private mutating func parseBlock(indent: Int, path: String) throws(YAMLError) -> YAMLNode {
        if isSequenceItem(lines[index].text) { return try parseSequence(indent: indent, path: path) }
        return try parseMapping(indent: indent, path: path)
    }

    private mutating func parseSequence(indent: Int, path: String) throws(YAMLError) -> YAMLNode {
        let startLine = lines[index].number
        var items: [YAMLNode] = []
        while index < lines.count, lines[index].indent == indent, isSequenceItem(lines[index].text) {
            let line = lines[index]
            let itemPath = "\(path)[\(items.count)]"
            let rest = String(line.text.dropFirst(1))
            let content = rest.drop(while: { $0 == " " })
            if content.isEmpty {
                index += 1
                if index < lines.count, lines[index].indent > indent {
                    items.append(try parseBlock(indent: lines[index].indent, path: itemPath))
                } else {
                    items.append(.scalar(nil, line: line.number))
                }
                continue
            }
            // "- key: value" or "- - x": the rest of the line opens a nested block whose column is
            // where the content starts, and following lines at that column continue it.
            let column = indent + 1 + (rest.count - content.count)
            if isSequenceItem(String(content)) || splitKey(String(content)) != nil {
                lines[index] = Line(number: line.number, indent: column, text: String(content))
                items.append(try parseBlock(indent: column, path: itemPath))
            } else {
                items.append(try parseScalar(String(content), line: line.number, path: itemPath))
                index += 1
            }
        }
        if index < lines.count, lines[index].indent > indent {
            throw fail(lines[index].number, path, "unexpected indentation inside a sequence")
        }
        if index < lines.count, lines[index].indent == indent, indent > 0 || !path.isEmpty,
           !isSequenceItem(lines[index].text), !sequenceSharesKeyColumn(indent: indent, path: path) {
            throw fail(lines[index].number, path, "a mapping key where a sequence item was expected")
        }
        return .sequence(items, line: startLine)
    }

    /// Splits `key: value` / `key:`; returns nil when the text is not a mapping entry.
    private func splitKey(_ text: String) -> (key: String, rest: String)? {
        if let first = text.first, first == "\"" || first == "'" {
            // Quoted key.
            guard let close = text.dropFirst().firstIndex(of: first) else { return nil }
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            let rest = after.dropFirst()
            guard rest.isEmpty || rest.first == " " else { return nil }
            return (String(text[text.index(after: text.startIndex)..<close]), rest.trimmingWhitespace())
        }
        var idx = text.startIndex
        while idx < text.endIndex {
            if text[idx] == ":" {
                let next = text.index(after: idx)
                if next == text.endIndex || text[next] == " " {
                    let key = String(text[..<idx]).trimmingWhitespace()
                    if key.isEmpty { return nil }
                    return (key, String(text[next...]).trimmingWhitespace())
                }
            }
            idx = text.index(after: idx)
        }
        return nil
    }

    private mutating func parseMapping(indent: Int, path: String) throws(YAMLError) -> YAMLNode {
        let startLine = lines[index].number
        var entries: [YAMLEntry] = []
        while index < lines.count, lines[index].indent == indent {
            let line = lines[index]
            if isSequenceItem(line.text) {
                throw fail(line.number, path, "a sequence item where a mapping key was expected")
            }
            if line.text.hasPrefix("? ") || line.text == "?" {
                throw fail(line.number, path, "complex mapping keys ('?') are not supported")
            }
            guard let (key, rest) = splitKey(line.text) else {
                throw fail(line.number, path, "expected 'key: value', found '\(line.text)'")
            }
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if key.hasPrefix("&") || key.hasPrefix("*") || key.hasPrefix("!") || key == "<<" {
                throw fail(line.number, keyPath, "anchors, aliases, tags and merge keys are not supported")
            }
            if key.hasPrefix("[") || key.hasPrefix("{") {
                throw fail(line.number, keyPath, "flow collections are not supported as keys")
            }
            if entries.contains(where: { $0.key == key }) {
                throw fail(line.number, keyPath, "duplicate key")
            }
            index += 1
            let value: YAMLNode
            if rest.isEmpty {
                if index < lines.count, lines[index].indent > indent {
                    value = try parseBlock(indent: lines[index].indent, path: keyPath)
                } else if index < lines.count, lines[index].indent == indent, isSequenceItem(lines[index].text) {
                    compactSequenceIndents.append(indent)
                    defer { compactSequenceIndents.removeLast() }
                    value = try parseSequence(indent: indent, path: keyPath)
                } else {
                    value = .scalar(nil, line: line.number)
                }
            } else {
                value = try parseScalar(rest, line: line.number, path: keyPath)
                if index < lines.count, lines[index].indent > indent {
                    throw fail(lines[index].number, keyPath, "unexpected indentation after a scalar value (multi-line plain scalars are not supported)")
                }
            }
            entries.append(YAMLEntry(key: key, line: line.number, value: value))
        }
        if index < lines.count, lines[index].indent > indent {
            throw fail(lines[index].number, path, "unexpected indentation")
        }
        return .mapping(entries, line: startLine)
    }

    private func parseScalar(_ text: String, line: Int, path: String) throws(YAMLError) -> YAMLNode {
        guard let first = text.first else { return .scalar(nil, line: line) }
        switch first {
        case "[", "{":
            throw fail(line, path, "flow collections ('\(first)') are not supported; use a block \(first == "[" ? "sequence" : "mapping")")
        case "&", "*":
            throw fail(line, path, "anchors and aliases are not supported")
        case "!":
            throw fail(line, path, "tags are not supported")
        case "|", ">":
            throw fail(line, path, "block scalars ('\(first)') are not supported; write the value on one line")
        case "@", "`":
            throw fail(line, path, "a plain scalar cannot start with '\(first)'; quote it")
        case "\"":
            return .scalar(try doubleQuoted(text, line: line, path: path), line: line)
        case "'":
            return .scalar(try singleQuoted(text, line: line, path: path), line: line)
        default:
            if splitKey(text) != nil {
                throw fail(line, path, "a mapping on the same line as its key is not supported; quote the value if it contains ': '")
            }
            if text == "~" || text == "null" || text == "Null" || text == "NULL" { return .scalar(nil, line: line) }
            return .scalar(text, line: line)
        }
    }

    private func doubleQuoted(_ text: String, line: Int, path: String) throws(YAMLError) -> String {
        var out = ""
        var it = text.unicodeScalars.dropFirst().makeIterator()
        var closed = false
        while let c = it.next() {
            if c == "\"" { closed = true; break }
            if c == "\\" {
                guard let e = it.next() else { break }
                switch e {
                case "n": out += "\n"
                case "t": out += "\t"
                case "r": out += "\r"
                case "0": out += "\0"
                case "\"": out += "\""
                case "\\": out += "\\"
                case "/": out += "/"
                default: throw fail(line, path, "unsupported escape '\\\(e)' in a double-quoted string")
                }
            } else {
                out.unicodeScalars.append(c)
            }
        }
        guard closed else { throw fail(line, path, "unterminated double-quoted string (multi-line strings are not supported)") }
        var rest = ""
        while let c = it.next() { rest.unicodeScalars.append(c) }
        guard rest.trimmingWhitespace().isEmpty else {
            throw fail(line, path, "unexpected text after a quoted string")
        }
        return out
    }

    private func singleQuoted(_ text: String, line: Int, path: String) throws(YAMLError) -> String {
        var out = ""
        var chars = Array(text.dropFirst())
        var i = 0
        var closed = false
        while i < chars.count {
            if chars[i] == "'" {
                if i + 1 < chars.count, chars[i + 1] == "'" { out.append("'"); i += 2; continue }
                closed = true
                i += 1
                break
            }
            out.append(chars[i])
            i += 1
        }
        guard closed else { throw fail(line, path, "unterminated single-quoted string (multi-line strings are not supported)") }
        chars = Array(chars[i...])
        guard String(chars).trimmingWhitespace().isEmpty else {
            throw fail(line, path, "unexpected text after a quoted string")
        }
        return out
    }
}
