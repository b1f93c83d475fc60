import CLI

Tool.main("serkd-compile", usage: CompileCommand.usage, commands: CompileCommand.commands,
          actions: ["list-passes": CompileCommand.listPasses])
