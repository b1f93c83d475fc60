import BuiltTools
import Foundation
import Testing

/// What every serkd tool does with help, mistakes and no arguments, the same way for each.
@Suite struct CommandLineToolTests {
    static let commands: [(tool: String, commands: [String])] = [
        ("serkd-convert", ["import", "inspect", "export"]),
        ("serkd-compile", ["graph", "model", "inspect"]),
        ("serkd-run", ["infer", "train", "eval", "compare", "visualize"]),
        ("serkd-bench", ["gemm", "infer", "rkd-angle", "train-step"]),
    ]

    @Test("-h, --help and `help` print the tool's usage on stdout and exit 0")
    func toolHelp() throws {
        for (tool, _) in Self.commands {
            for arguments in [["-h"], ["--help"], ["help"]] {
                let result = try BuiltTool.run(tool, arguments)
                #expect(result.status == 0, "\(tool) \(arguments)")
                #expect(result.output.hasPrefix("usage: \(tool) "), "\(tool) \(arguments)")
                #expect(result.error.isEmpty)
            }
        }
    }

    @Test("COMMAND -h, COMMAND --help and `help COMMAND` print that command's usage, even beside bad options")
    func commandHelp() throws {
        for (tool, commands) in Self.commands {
            for command in commands {
                for arguments in [[command, "-h"], [command, "--help"], ["help", command], [command, "--no-such-option", "-h"]] {
                    let result = try BuiltTool.run(tool, arguments)
                    #expect(result.status == 0, "\(tool) \(arguments): \(result.error)")
                    #expect(result.output.hasPrefix("usage: \(tool) \(command)"), "\(tool) \(arguments)")
                }
            }
        }
    }

    @Test("no arguments: the usage on stderr and status 1, for every tool")
    func noArguments() throws {
        for (tool, _) in Self.commands {
            let result = try BuiltTool.run(tool, [])
            #expect(result.status == 1, "\(tool)")
            #expect(result.output.isEmpty)
            #expect(result.error.hasPrefix("usage: \(tool) "))
        }
    }

    @Test("--version prints the tool's name and version")
    func version() throws {
        for (tool, _) in Self.commands {
            let result = try BuiltTool.run(tool, ["--version"])
            #expect(result.status == 0, "\(tool)")
            #expect(result.output.hasPrefix("\(tool) 0.1.0\n"))
        }
    }

    @Test("a misspelt option is named as unknown before anything else is checked, status 1")
    func misspeltOptions() throws {
        let cases: [(String, [String], String)] = [
            ("serkd-run", ["train", "--confg", "run.json"], "serkd-run: --confg: unknown option (did you mean --config?)\n"),
            ("serkd-run", ["infer", "m.onnx", "--imge", "x.png"], "serkd-run: --imge: unknown option (did you mean --image?)\n"),
            ("serkd-compile", ["graph", "--confg", "run.json", "-o", "x.plan"], "serkd-compile: --confg: unknown option (did you mean --config?)\n"),
            ("serkd-convert", ["export", "a.serkd", "-o", "a.onnx", "--opst", "17"], "serkd-convert: --opst: unknown option (did you mean --opset?)\n"),
            ("serkd-bench", ["gemm", "--sise", "64"], "serkd-bench: --sise: unknown option (did you mean --size?)\n"),
            ("serkd-run", ["--frobnicate"], "serkd-run: --frobnicate: unknown option (try serkd-run --help)\n"),
            ("serkd-run", ["frobnicate"], "serkd-run: frobnicate: unknown command (try serkd-run --help)\n"),
        ]
        for (tool, arguments, message) in cases {
            let result = try BuiltTool.run(tool, arguments)
            #expect(result.status == 1, "\(tool) \(arguments)")
            #expect(result.error == message)
        }
    }

    @Test("--image takes several files, as its usage shows")
    func severalImages() throws {
        let result = try BuiltTool.run("serkd-run", ["infer", "/nonexistent/m.serkd", "--image", "a.png", "b.png"])
        #expect(result.status == 1)
        #expect(result.error == "serkd-run: /nonexistent/m.serkd: no such file\n")
    }
}
