// tmt-migrate: applies versioned SQL migrations (0001_name.sql, …) to the database named by an
// environment variable, once, under an advisory lock, so several processes may run it at once.
import Foundation
import TMTPostgres

exit(PostgresMigrator.runFromCommandLine(arguments: CommandLine.arguments))
