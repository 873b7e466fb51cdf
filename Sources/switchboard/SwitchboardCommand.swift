import ArgumentParser

/// The `switchboard` command line: one subcommand per job, each in its own file.
@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "OpenAI-compatible chat completions with first-class function calling.",
        subcommands: [ServeCommand.self, MCPCommand.self, ChatCommand.self, TemplateCommand.self, BenchCommand.self, ToolBenchCommand.self])
}
