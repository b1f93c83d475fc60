import CLI

Tool.main("serkd-convert", usage: ConvertCommand.usage, commands: ConvertCommand.commands)
