import ArgumentParser

/// `switchboard template …`: inspect and test chat templates.
struct TemplateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template", abstract: "Render chat templates (not implemented yet).")
    func run() async throws { throw ValidationError("not implemented yet") }
}
