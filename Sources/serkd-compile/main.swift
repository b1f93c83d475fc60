import CLI

Tool.main("serkd-compile") { try CompileCommand.run(Array(CommandLine.arguments.dropFirst())) }
