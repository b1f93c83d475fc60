import CLI

Tool.main("serkd-convert") { try ConvertCommand.run(Array(CommandLine.arguments.dropFirst())) }
