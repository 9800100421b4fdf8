/// The version every service reports (`/health`, heartbeats, `--version`). Bumped with releases.
public enum TMTVersion {
    public static let current = "0.1.0"
}
