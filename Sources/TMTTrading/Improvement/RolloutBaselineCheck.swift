import TMTBase

/// Whether the baseline an experiment was proposed against is still the live one. The shadow
/// evidence (p-value, improvement) compared the variant with the baseline of proposal time;
/// once that baseline has changed (another experiment completed, an operator update), the
/// evidence no longer says anything about the variant against today's baseline, so approval is
/// refused and the experiment must be proposed again.
public enum RolloutBaselineCheck {
    /// The differences between `recorded` (field → value at proposal time, as text) and
    /// `current`, one readable line per field, e.g. `stopATR was 0.5, is now 0.6`; empty when they
    /// agree. Values are compared as parsed parameters, so `0.5` and `0.50` agree.
    public static func differences(recorded: [String: String], current: WyckoffParameters) -> [String] {
        let now = values(of: current)
        var out: [String] = []
        for (field, value) in recorded.sorted(by: { $0.key < $1.key }) {
            let same: Bool
            do { same = try current.applying(updates: [field: value]) == current } catch { same = false }
            if !same { out.append("\(field) was \(value), is now \(now[field] ?? "unknown")") }
        }
        return out
    }

    /// The parameters' fields as text (`WyckoffParameters` encodes as a flat object of scalars).
    private static func values(of parameters: WyckoffParameters) -> [String: String] {
        guard let data = try? JSONEncoder().encode(parameters),
              let object = try? JSONDecoder().decode([String: Scalar].self, from: data) else { return [:] }
        return object.mapValues(\.text)
    }

    /// One of the flat object's values, as text: whole numbers without a fraction (`14`, and `2`
    /// for 2.0, as JSON writes it), others in Swift's shortest form, strings as they are.
    private enum Scalar: Decodable {
        case integer(Int), number(Double), flag(Bool), string(String)

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .integer(i) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let b = try? c.decode(Bool.self) { self = .flag(b) }
            else { self = .string(try c.decode(String.self)) }
        }

        var text: String {
            switch self {
            case .integer(let i): "\(i)"
            case .number(let d): "\(d)"
            case .flag(let b): b ? "true" : "false"
            case .string(let s): s
            }
        }
    }
}
