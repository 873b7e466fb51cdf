import Logging

/// Sends every log to standard error at `level` (a name such as `info`; `fallback` when it is
/// not one), once per process, before anything logs.
func bootstrapStandardErrorLogging(level: String, fallback: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = Logger.Level(rawValue: level) ?? fallback
        return handler
    }
}
