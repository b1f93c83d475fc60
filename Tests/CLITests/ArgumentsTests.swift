import CLI
import Tensor
import Testing

/// Command-line parsing against a command's declared syntax.
@Suite struct ArgumentsTests {
    let syntax = Syntax(flags: ["resume", "dump"], options: ["config", "output", "steps", "mean"], lists: ["image"])

    func failure(_ list: [String]) -> InvalidInput? {
        #expect(throws: InvalidInput.self) { _ = try Arguments(list, syntax: syntax) }
    }

    @Test("a misspelt option is named as unknown, with the nearest accepted name")
    func misspeltOption() {
        #expect(failure(["--confg", "run.json"]) == InvalidInput("--confg", "unknown option (did you mean --config?)"))
        #expect(failure(["--imge", "a.png"]) == InvalidInput("--imge", "unknown option (did you mean --image?)"))
        #expect(failure(["--frobnicate"]) == InvalidInput("--frobnicate", "unknown option"))
        #expect(failure(["-x"]) == InvalidInput("-x", "unknown option"))
    }

    @Test("a list option takes every value up to the next option")
    func listOption() throws {
        var arguments = try Arguments(["model.onnx", "--image", "a.png", "b.png", "-o", "y.npy", "--image", "c.png"], syntax: syntax)
        let (model, images, output) = (try arguments.positional("model"), arguments.options("image"), arguments.option("output"))
        #expect(model == "model.onnx")
        #expect(images == ["a.png", "b.png", "c.png"])
        #expect(output == "y.npy")
        try arguments.finish()
    }

    @Test("values: --name=value, --name value, negative numbers; flags take none")
    func values() throws {
        var arguments = try Arguments(["--config=a.json", "--steps", "-1", "--mean", "-0.5,0.5", "--resume"], syntax: syntax)
        let (config, steps, mean, resume) = (arguments.option("config"), arguments.option("steps"), arguments.option("mean"), arguments.flag("resume"))
        #expect(config == "a.json")
        #expect(steps == "-1")
        #expect(mean == "-0.5,0.5")
        #expect(resume)
        try arguments.finish()
        #expect(failure(["--resume=yes"]) == InvalidInput("--resume", "takes no value"))
        #expect(failure(["--config"]) == InvalidInput("--config", "needs a value"))
        #expect(failure(["--config", "--resume"]) == InvalidInput("--config", "needs a value"))
        #expect(failure(["--image", "-o", "x"]) == InvalidInput("--image", "needs a value"))
    }

    @Test("-h is --help, for every syntax")
    func shortHelp() throws {
        var arguments = try Arguments(["-h"], syntax: Syntax())
        let help = arguments.flag("help")
        #expect(help)
    }

    @Test("finish rejects an accepted option this mode does not use, and a left-over positional")
    func finish() throws {
        var arguments = try Arguments(["a", "--dump"], syntax: syntax)
        _ = try arguments.positional("a")
        #expect(throws: InvalidInput("--dump", "does not apply here")) { try arguments.finish() }
        var extra = try Arguments(["a", "b"], syntax: syntax)
        _ = try extra.positional("a")
        #expect(throws: InvalidInput(nil, "unexpected argument 'b'")) { try extra.finish() }
    }
}

/// Byte counts as users write them for `--memory-budget`.
@Suite struct ByteSizeTests {
    @Test("binary units for K/M/G/T and KiB…, decimal for KB…, plain bytes")
    func units() throws {
        #expect(try ByteSize.parse("2GiB") == 2 << 30)
        #expect(try ByteSize.parse("2G") == 2 << 30)
        #expect(try ByteSize.parse("512mib") == 512 << 20)
        #expect(try ByteSize.parse("1.5 KiB") == 1536)
        #expect(try ByteSize.parse("3MB") == 3_000_000)
        #expect(try ByteSize.parse("4096") == 4096)
        #expect(try ByteSize.parse("10B") == 10)
        #expect(try ByteSize.parse("1.5GB") == 1_500_000_000)
        #expect(try ByteSize.parse("300000") == 300_000)
    }

    @Test("zero, negative, unitless garbage and overflow are refused")
    func refused() {
        for text in ["0", "-1GiB", "GiB", "2 parsecs", "lots", "1e30TiB", ""] {
            #expect(throws: InvalidInput(nil, "expected a positive size like 512MiB or 2GiB, got '\(text)'")) { try ByteSize.parse(text) }
        }
    }
}
